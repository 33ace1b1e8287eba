using System.Text.Json;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.ApiKeys;
using Authio.ControlPlane.EdgeSync;
using Authio.Shared.Fleet;

namespace Authio.ControlPlane.Fleet;

/// <summary>
/// Edges' status reports and the fleet view built from them. An edge is stale after 3 of its report intervals without
/// a report, and forgotten (row and metric series) after 10.
/// </summary>
internal sealed partial class FleetService(FleetStore store, EdgeChangeStore changes, FleetMetrics metrics, TimeProvider time, ILogger<FleetService> logger)
{
    public const int StaleIntervals = 3;
    public const int PruneIntervals = 10;
    /// <summary>The edges' default report interval, given as <c>report_interval_seconds</c> while no edge is listed.</summary>
    public const double DefaultIntervalSeconds = 10;

    /// <summary>Checks what the data annotations cannot (edge id characters, transport names, duplicate routes) and keeps the report.</summary>
    public async Task<Failure?> ReportAsync(EdgeCaller edge, EdgeStatusReport report, CancellationToken ct)
    {
        if (Invalid(report) is { } failure)
        {
            return failure;
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var first = !await store.ExistsAsync(report.Id, ct);
        await store.UpsertAsync(new EdgeRow
        {
            Id = report.Id,
            KeyId = edge.KeyId,
            Version = report.Version,
            LastSeen = now,
            IntervalMs = (long)Math.Ceiling(report.IntervalSeconds * 1000),
            Report = JsonSerializer.Serialize(report),
        }, ct);
        await store.PruneAsync(now, PruneIntervals, ct);
        if (first)
        {
            Log.EdgeJoined(logger, report.Id, report.Version, edge.KeyId);
        }
        return null;
    }

    public async Task<FleetView> ListAsync(CancellationToken ct)
    {
        var view = await ReadAsync(prune: true, ct);
        metrics.Sample(view.Edges);
        return view;
    }

    /// <summary>
    /// The feed positions of the edges online now, for a caller that only compares positions (a session's revocation
    /// status, polled by the console): no pruning, no gauges.
    /// </summary>
    public async Task<List<long>> OnlineFeedPositionsAsync(CancellationToken ct) =>
        (await ReadAsync(prune: false, ct)).Edges.Where(e => !e.Stale).Select(e => e.FeedSequence).ToList();

    /// <summary>Refreshes the fleet gauges from the database (every instance sees every edge's report).</summary>
    public async Task SampleAsync(CancellationToken ct) => metrics.Sample((await ReadAsync(prune: true, ct)).Edges);

    private async Task<FleetView> ReadAsync(bool prune, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (prune)
        {
            await store.PruneAsync(now, PruneIntervals, ct);
        }
        var rows = await store.ListAsync(ct);
        var edges = new List<EdgeStatusView>();
        foreach (var row in rows)
        {
            var report = JsonSerializer.Deserialize<EdgeStatusReport>(row.Report)!;
            edges.Add(new EdgeStatusView(row.Id, row.Version, DateTimeOffset.FromUnixTimeMilliseconds(row.LastSeen),
                now - row.LastSeen > StaleIntervals * row.IntervalMs, report.FeedSequence, report.FeedLagSeconds, report.FeedTransport,
                report.KeySetAgeSeconds, report.Routes));
        }
        var interval = rows.Count == 0 ? DefaultIntervalSeconds : rows.Min(r => r.IntervalMs) / 1000.0;
        return new FleetView(edges, await changes.LastSequenceAsync(ct), interval);
    }

    private static Failure? Invalid(EdgeStatusReport report)
    {
        if (!FleetPaths.IsValidEdgeId(report.Id))
        {
            return Failure.Invalid("id", $"must be 1 to {FleetPaths.MaxNameLength} letters, digits, '.', '_', '-' or ':'.");
        }
        if (report.Version.Any(char.IsControl))
        {
            return Failure.Invalid("version", "must not contain control characters.");
        }
        if (report.FeedTransport is not (null or FleetPaths.TransportRedis or FleetPaths.TransportHttp))
        {
            return Failure.Invalid("feed_transport", $"must be '{FleetPaths.TransportRedis}', '{FleetPaths.TransportHttp}' or absent.");
        }
        if (report.Routes.Any(r => r.Route.Any(char.IsControl)))
        {
            return Failure.Invalid("routes", "route ids must not contain control characters.");
        }
        if (report.Routes.Select(r => r.Route).Distinct(StringComparer.Ordinal).Count() != report.Routes.Count)
        {
            return Failure.Invalid("routes", "must name each route once.");
        }
        if (report.Routes.Any(r => r.P50Ms > r.P95Ms || r.P95Ms > r.P99Ms))
        {
            return Failure.Invalid("routes", "percentiles must not decrease (p50_ms ≤ p95_ms ≤ p99_ms).");
        }
        return null;
    }
}
