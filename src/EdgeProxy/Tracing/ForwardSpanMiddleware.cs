using System.Diagnostics;
using Yarp.ReverseProxy.Model;

namespace Authio.EdgeProxy.Tracing;

/// <summary>
/// The forward's client span, last in the YARP route pipeline (after load balancing chose the destination) and only
/// while tracing is on. It is Activity.Current while YARP's HTTP client sends, so the handler injects its context into
/// the upstream request as <c>traceparent</c> (YARP's propagator drops the caller's first): the upstream joins the
/// edge's trace under this span. Unsampled requests have no server span, and get no client span either.
/// </summary>
internal sealed class ForwardSpanMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context) =>
        EdgeTracing.IsTracing(Activity.Current) ? TracedAsync(context) : next(context);

    private async Task TracedAsync(HttpContext context)
    {
        using var span = EdgeTracing.StartForward();
        if (span is { IsAllDataRequested: true } && context.Features.Get<IReverseProxyFeature>()?.ProxiedDestination?.Model.Config.Address is { } address)
        {
            span.SetTag("server.address", address);
        }
        await next(context);
        if (span is { IsAllDataRequested: true })
        {
            var status = context.Response.StatusCode;
            span.SetTag("http.response.status_code", status);
            if (status >= 500)
            {
                span.SetStatus(ActivityStatusCode.Error);
            }
        }
    }
}
