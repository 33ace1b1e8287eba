using System.Diagnostics;

namespace Authio.ControlPlane.Diagnostics;

/// <summary>
/// Records <c>http.server.request.duration</c> by the matched endpoint's route template (never the raw path), so
/// a scan of a million unknown paths is one <c>unmatched</c> series.
/// </summary>
internal sealed class RequestMetricsMiddleware(RequestDelegate next, ControlPlaneMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        // Real elapsed time, not the injected clock: this measures work, it decides nothing.
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var route = context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } template } ? template : ControlPlaneMetrics.UnmatchedRoute;
            metrics.RequestCompleted(context.Request.Method, route, context.Response.StatusCode, Stopwatch.GetElapsedTime(started));
        }
    }
}
