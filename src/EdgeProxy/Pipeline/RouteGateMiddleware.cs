using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Policy;
using Yarp.ReverseProxy.Model;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// Right after routing: a request no YARP route matched gets 404 <c>not_found</c> as problem+json (ASP.NET would
/// answer an empty 404), and a path marked by <see cref="RequestHygiene"/> for an encoded separator is refused (400
/// <c>invalid_path</c>) unless the matched route sets <c>Authio.AllowEncodedSlashes=true</c>. Neither reaches the
/// authentication stage, so neither spends a failure budget.
/// </summary>
internal sealed class RouteGateMiddleware(RequestDelegate next, RoutePolicies policies, EdgeMetrics metrics)
{
    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        EdgeError? error = null;
        if (endpoint is null)
        {
            error = EdgeError.NotFound;
        }
        else if (context.Features.Get<EncodedSeparatorMark>() is not null
                 && !(endpoint.Metadata.GetMetadata<RouteModel>() is { } route && policies.Get(route.Config).AllowEncodedSlashes))
        {
            error = EdgeError.EncodedSeparatorPath;
        }
        if (error is null)
        {
            return next(context);
        }
        metrics.Decision(error.Code);
        return ProblemResponses.WriteAsync(context, error);
    }
}
