using Yarp.ReverseProxy.Health;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// YARP's passive health checks, for the clusters that enable them. YARP's middleware is an async method around the
/// forward on every request, checking the cluster's settings only once the forward is done; here the request's cluster
/// snapshot is read first (the same snapshot YARP reads after), and a cluster without passive checks (the default)
/// goes straight on: no async state machine per request (PassiveHealthBenchmarks, bench/README.md).
/// </summary>
internal sealed class PassiveHealthChecksWhereEnabled(RequestDelegate next, IEnumerable<IPassiveHealthCheckPolicy> policies)
{
    private readonly PassiveHealthCheckMiddleware _checks = new(next, policies);

    public Task InvokeAsync(HttpContext context) =>
        context.GetReverseProxyFeature().Cluster.Config.HealthCheck?.Passive?.Enabled == true ? _checks.Invoke(context) : next(context);
}
