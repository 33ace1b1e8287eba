using System.Diagnostics.Metrics;
using Authio.EdgeProxy.Redis;
using Authio.EdgeProxy.Sync;

namespace Authio.EdgeProxy.Diagnostics;

/// <summary>
/// Gauges of the edge's state, read at scrape time (meter <c>Authio.Edge</c>): the change feed's sequence, lag and
/// transport, and whether Redis and the control plane are reachable. The feed and Redis are resolved on the first
/// scrape (they depend on <see cref="EdgeMetrics"/>, so cannot be constructor arguments of it); an edge without a
/// control plane or without Redis reports none of their series.
/// </summary>
internal static class StateGauges
{
    public static void Register(Meter meter, IServiceProvider services)
    {
        var sync = new Lazy<EdgeSyncClient?>(() => services.GetService<EdgeSyncClient>());
        var redis = new Lazy<EdgeRedis?>(() => services.GetService<EdgeRedis>());
        meter.CreateObservableGauge("authio.edge.feed.sequence",
            () => sync.Value is { } feed ? [new Measurement<long>(feed.Sequence)] : Array.Empty<Measurement<long>>(),
            description: "The last change-log sequence this edge applied.");
        meter.CreateObservableGauge("authio.edge.feed.lag",
            () => sync.Value is { } feed ? [new Measurement<double>(feed.LagSeconds)] : Array.Empty<Measurement<double>>(),
            unit: "s", description: "Seconds since the edge last knew it had every change (0 while it follows the feed).");
        meter.CreateObservableGauge("authio.edge.feed.transport",
            () => sync.Value is { } feed
                ? [new Measurement<int>(feed.ViaRedis ? 1 : 0, new KeyValuePair<string, object?>("transport", "redis")),
                    new Measurement<int>(feed.ViaRedis ? 0 : 1, new KeyValuePair<string, object?>("transport", "http"))]
                : Array.Empty<Measurement<int>>(),
            description: "How changes arrive: 1 for the transport in use (redis or http), 0 for the other.");
        meter.CreateObservableGauge("authio.edge.dependency.up", () => Dependencies(sync.Value, redis.Value),
            description: "1 while a configured dependency (redis, control_plane) answers the edge, else 0.");
    }

    private static IEnumerable<Measurement<int>> Dependencies(EdgeSyncClient? sync, EdgeRedis? redis)
    {
        if (redis is not null)
        {
            yield return new Measurement<int>(redis.IsAvailable ? 1 : 0, new KeyValuePair<string, object?>("dependency", "redis"));
        }
        if (sync is not null)
        {
            yield return new Measurement<int>(sync.ControlPlaneUp ? 1 : 0, new KeyValuePair<string, object?>("dependency", "control_plane"));
        }
    }
}
