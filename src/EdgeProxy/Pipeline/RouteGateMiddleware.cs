using System.Diagnostics;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Policy;
using Yarp.ReverseProxy.Model;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// Right after routing: a request no YARP route matched gets 404 <c>not_found</c> as problem+json (ASP.NET would
/// answer an empty 404), and a path marked by <see cref="RequestHygiene"/> for an encoded separator is refused (400
/// <c>invalid_path</c>) unless the matched route sets <c>Authio.AllowEncodedSlashes=true</c>. Neither reaches the
/// authentication stage, so neither spends a failure budget. A path matched with the wrong method reaches ASP.NET's
/// own 405 endpoint (which sets <c>Allow</c>); its empty answer gets the problem+json body here.
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
        else if (RequestHygiene.HasEncodedSeparator(context)
                 && !(endpoint.Metadata.GetMetadata<RouteModel>() is { } route && policies.Get(route.Config).AllowEncodedSlashes))
        {
            error = EdgeError.EncodedSeparatorPath;
        }
        if (error is null)
        {
            var task = next(context);
            // ASP.NET's 405 endpoint completes synchronously and is no YARP route; a forwarded request is still running
            // here, so it never pays for the check, and an upstream's own 405 (a YARP route) is never rewritten.
            return task.IsCompletedSuccessfully && context.Response.StatusCode == StatusCodes.Status405MethodNotAllowed
                && !context.Response.HasStarted && endpoint!.Metadata.GetMetadata<RouteModel>() is null
                ? Refuse(context, EdgeError.MethodNotAllowed, null)
                : task;
        }
        return Refuse(context, error, endpoint?.Metadata.GetMetadata<RouteModel>()?.Config.RouteId);
    }

    private Task Refuse(HttpContext context, EdgeError error, string? routeId)
    {
        // Timed from the refusal: routing before it is not worth a clock read on every admitted request.
        var started = Stopwatch.GetTimestamp();
        metrics.Decision(error.Code);
        // Labelled before the answer is written (a refusal's write is a few microseconds): no continuation to allocate.
        var requests = metrics.Requests;
        requests.Refused(routeId is null ? requests.UnmatchedTags : requests.ForRoute(routeId), error.Code,
            RequestMetrics.CredentialOf(null, context.Request.Headers.Authorization), started);
        return EdgeResponses.WriteAsync(context, error);
    }
}
