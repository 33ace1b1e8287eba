using System.Diagnostics.Metrics;
using Authio.ControlPlane.Diagnostics;
using Authio.Shared.Fleet;

namespace Authio.ControlPlane.Fleet;

/// <summary>
/// The fleet gauges, on the control plane's meter: edges by state, and each edge's feed position and lag from its latest
/// report. Labels are bounded by the fleet: an edge pruned after 10 silent intervals leaves its series.
/// </summary>
internal sealed class FleetMetrics
{
    // Process-wide like ControlPlaneMetrics' meter (same name, so the admin listener exports it too).
    private static readonly Meter Meter = new(ControlPlaneMetrics.MeterName);
    private static IReadOnlyList<EdgeStatusView>? _edges;

    static FleetMetrics()
    {
        Meter.CreateObservableGauge("authio.controlplane.edges", ObserveStates, "{edge}",
            "Edges reporting their status, by state: online, or stale (silent for 3 report intervals).");
        Meter.CreateObservableGauge("authio.controlplane.edge.feed_position", ObservePositions, "{sequence}",
            "The change-log sequence each edge last reported having applied.");
        Meter.CreateObservableGauge("authio.controlplane.edge.feed_lag", ObserveLags, "s",
            "Seconds since each edge last knew it had every change, as it last reported.");
    }

    public void Sample(IReadOnlyList<EdgeStatusView> edges) => Volatile.Write(ref _edges, edges);

    private static IEnumerable<Measurement<long>> ObserveStates()
    {
        // Nothing before the first sample: a made-up zero would read as an empty fleet.
        if (Volatile.Read(ref _edges) is not { } edges)
        {
            return [];
        }
        var stale = edges.Count(e => e.Stale);
        return
        [
            new Measurement<long>(edges.Count - stale, new KeyValuePair<string, object?>("state", "online")),
            new Measurement<long>(stale, new KeyValuePair<string, object?>("state", "stale")),
        ];
    }

    private static IEnumerable<Measurement<long>> ObservePositions() =>
        (Volatile.Read(ref _edges) ?? []).Select(e => new Measurement<long>(e.FeedSequence, EdgeTag(e)));

    // An edge that has not read its feed yet reports no lag: no series rather than a made-up zero.
    private static IEnumerable<Measurement<double>> ObserveLags() =>
        (Volatile.Read(ref _edges) ?? []).Where(e => e.FeedLagSeconds is not null).Select(e => new Measurement<double>(e.FeedLagSeconds!.Value, EdgeTag(e)));

    private static KeyValuePair<string, object?> EdgeTag(EdgeStatusView edge) => new("edge_id", edge.Id);
}
