using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Authio.Shared.Fleet;

/// <summary>Where edges report their status and where operators read the fleet.</summary>
public static class FleetPaths
{
    /// <summary><c>POST</c> <see cref="EdgeStatusReport"/> → 204, with the edge's <c>edge:sync</c> key.</summary>
    public const string Report = "/v1/edge/status";

    /// <summary><c>GET</c> → <see cref="FleetView"/>, operators only.</summary>
    public const string Edges = "/v1/edges";

    /// <summary>Routes one report may carry: an edge with more sends its busiest ones.</summary>
    public const int MaxRoutes = 500;

    /// <summary>Longest edge id, version, route id or transport name.</summary>
    public const int MaxNameLength = 200;

    /// <summary>Feed transports an edge may name.</summary>
    public const string TransportRedis = "redis";
    public const string TransportHttp = "http";

    /// <summary>An edge id: 1–200 of letters, digits, <c>.</c>, <c>_</c>, <c>-</c>, <c>:</c> (it becomes a metric label).</summary>
    public static bool IsValidEdgeId(string? id) => id is { Length: > 0 and <= MaxNameLength } && id.All(IsEdgeIdChar);

    public static bool IsEdgeIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':';
}

/// <summary>
/// One edge's status, sent every report interval: who it is, how far it follows the change feed, how old its keys are,
/// and per route the requests and latency percentiles (from an HdrHistogram, not averages) since its last delivered report.
/// </summary>
/// <param name="Id">Stable edge id (<c>Edge:Fleet:EdgeId</c>): letters, digits, <c>.</c>, <c>_</c>, <c>-</c>, <c>:</c>.</param>
/// <param name="IntervalSeconds">The edge's report interval; the control plane marks it stale after 3 silent intervals.</param>
/// <param name="FeedLagSeconds">Seconds since the edge last knew it had every change; null before its first feed read.</param>
/// <param name="FeedTransport"><c>redis</c> or <c>http</c>; null when the edge does not follow the feed.</param>
/// <param name="KeySetAgeSeconds">Age of the oldest issuer key set held; null when none is loaded.</param>
/// <param name="WindowSeconds">How long the route figures cover (longer than the interval after an undelivered report).</param>
public sealed record EdgeStatusReport(
    [property: JsonPropertyName("id"), Required, StringLength(FleetPaths.MaxNameLength, MinimumLength = 1)] string Id,
    [property: JsonPropertyName("version"), Required, StringLength(FleetPaths.MaxNameLength)] string Version,
    [property: JsonPropertyName("interval_seconds"), Range(0.1, 3600)] double IntervalSeconds,
    [property: JsonPropertyName("feed_sequence"), Range(0, long.MaxValue)] long FeedSequence,
    [property: JsonPropertyName("feed_lag_seconds"), Range(0, 1e9)] double? FeedLagSeconds,
    [property: JsonPropertyName("feed_transport"), StringLength(16)] string? FeedTransport,
    [property: JsonPropertyName("key_set_age_seconds"), Range(0, 1e10)] double? KeySetAgeSeconds,
    [property: JsonPropertyName("window_seconds"), Range(0, 1e9)] double WindowSeconds,
    [property: JsonPropertyName("routes"), Required, MaxLength(FleetPaths.MaxRoutes)] IReadOnlyList<RouteLatency> Routes);

/// <summary>One route's requests and latency percentiles (milliseconds) over a report's window.</summary>
public sealed record RouteLatency(
    [property: JsonPropertyName("route"), Required, StringLength(FleetPaths.MaxNameLength, MinimumLength = 1)] string Route,
    [property: JsonPropertyName("requests"), Range(0, long.MaxValue)] long Requests,
    [property: JsonPropertyName("p50_ms"), Range(0, 1e9)] double P50Ms,
    [property: JsonPropertyName("p95_ms"), Range(0, 1e9)] double P95Ms,
    [property: JsonPropertyName("p99_ms"), Range(0, 1e9)] double P99Ms);

/// <summary><c>GET /v1/edges</c>: every edge heard from lately, and the change log's head to compare positions with.</summary>
/// <param name="ReportIntervalSeconds">The shortest report interval among the listed edges (10 when none is listed).</param>
public sealed record FleetView(
    [property: JsonPropertyName("edges")] IReadOnlyList<EdgeStatusView> Edges,
    [property: JsonPropertyName("head_sequence")] long HeadSequence,
    [property: JsonPropertyName("report_interval_seconds")] double ReportIntervalSeconds);

/// <summary>One edge's latest report as the control plane holds it.</summary>
/// <param name="Stale">True once the edge has been silent for 3 of its report intervals.</param>
public sealed record EdgeStatusView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("last_seen")] DateTimeOffset LastSeen,
    [property: JsonPropertyName("stale")] bool Stale,
    [property: JsonPropertyName("feed_sequence")] long FeedSequence,
    [property: JsonPropertyName("feed_lag_seconds")] double? FeedLagSeconds,
    [property: JsonPropertyName("feed_transport")] string? FeedTransport,
    [property: JsonPropertyName("key_set_age_seconds")] double? KeySetAgeSeconds,
    [property: JsonPropertyName("routes")] IReadOnlyList<RouteLatency> Routes);
