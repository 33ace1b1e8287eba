using System.Diagnostics;
using Yarp.ReverseProxy.Model;

namespace Authio.EdgeProxy.Tracing;

/// <summary>
/// The edge's server span, first in the proxy listener's pipeline and only there while tracing is on. The
/// <see cref="TraceSampler"/> decides from the caller's headers; an unsampled request passes straight through (no
/// Activity: a caller's <c>traceparent</c> reaches the upstream as it came, like any header). A sampled one gets a
/// server span that the edge stage and the forward's client span (<see cref="ForwardSpanMiddleware"/>) hang under.
/// </summary>
internal sealed class ServerSpanMiddleware(RequestDelegate next, TraceSampler sampler)
{
    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        return sampler.ShouldSample(headers[TraceSampler.TraceParentHeader], headers[TraceSampler.TraceStateHeader], out var parent)
            ? TracedAsync(context, parent)
            : next(context);
    }

    private async Task TracedAsync(HttpContext context, ActivityContext parent)
    {
        var request = context.Request;
        using var span = EdgeTracing.StartServer(request.Method, parent);
        if (span is not { IsAllDataRequested: true })
        {
            await next(context);
            return;
        }
        span.SetTag("http.request.method", request.Method);
        span.SetTag("url.path", request.Path.Value);
        span.SetTag("url.scheme", request.Scheme);
        span.SetTag("network.protocol.version", request.Protocol);
        try
        {
            await next(context);
        }
        catch (Exception error)
        {
            span.SetStatus(ActivityStatusCode.Error, error.GetType().Name);
            throw;
        }
        finally
        {
            var status = context.Response.StatusCode;
            span.SetTag("http.response.status_code", status);
            if (context.Features.Get<IReverseProxyFeature>()?.Route.Config is { } route)
            {
                span.SetTag("http.route", route.Match.Path);
                span.DisplayName = request.Method + " " + (route.Match.Path ?? route.RouteId);
            }
            if (status >= 500)
            {
                span.SetStatus(ActivityStatusCode.Error);
            }
        }
    }
}
