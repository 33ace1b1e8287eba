using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Authio.Shared.ApiKeys;
using Authio.Shared.Tokens;
using Microsoft.Extensions.Primitives;

namespace Authio.EdgeProxy.Diagnostics;

/// <summary>How a request presented itself: the <c>authio.edge.credential_type</c> label.</summary>
internal enum CredentialType
{
    Anonymous,
    Jwt,
    ApiKey,
}

/// <summary>
/// Per-route request instruments of the <c>Authio.Edge</c> meter: <c>http.server.request.duration</c> (OTel semantic
/// convention name; <c>http.route</c> is the YARP route id, <c>unmatched</c> without one), the edge stage and the
/// upstream. Labels are bounded: route ids come from configuration, decision codes from the edge's fixed error set,
/// status classes and credential types are fixed. Every label array is built once (per route, per code) and reused,
/// so recording allocates nothing in steady state.
/// </summary>
internal sealed class RequestMetrics
{
    public const string RequestDurationName = "http.server.request.duration";
    public const string StageDurationName = "authio.edge.stage.duration";
    public const string UpstreamDurationName = "authio.edge.upstream.duration";
    public const string RouteTag = "http.route";
    public const string DecisionTag = "authio.edge.decision";
    public const string CredentialTag = "authio.edge.credential_type";
    public const string StatusClassTag = "http.response.status_class";
    public const string Unmatched = "unmatched";

    /// <summary>Whole request (edge stage + upstream + writing the answer): 100 µs … 10 s.</summary>
    public static readonly double[] RequestBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>The edge's own work before forwarding, sub-millisecond on a cache hit: 1 µs … 100 ms.</summary>
    public static readonly double[] StageBuckets = [0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1];

    private static readonly string[] CredentialNames = ["anonymous", IdentityHeaders.AuthTypeJwt, IdentityHeaders.AuthTypeApiKey];
    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    private readonly Histogram<double> _request;
    private readonly Histogram<double> _stage;
    private readonly Histogram<double> _upstream;
    private readonly ConcurrentDictionary<string, RouteTags> _routes = new(StringComparer.Ordinal);

    public RequestMetrics(Meter meter)
    {
        _request = meter.CreateHistogram<double>(RequestDurationName, unit: "s",
            description: "Duration of HTTP server requests at the edge, by route, decision code and credential type.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RequestBuckets });
        _stage = meter.CreateHistogram<double>(StageDurationName, unit: "s",
            description: "Time spent in the edge stage before forwarding (or refusing), by route, decision code and credential type.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = StageBuckets });
        _upstream = meter.CreateHistogram<double>(UpstreamDurationName, unit: "s",
            description: "Time from forwarding to the upstream's response (or the forwarder's failure), by route and status class.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RequestBuckets });
        UnmatchedTags = new RouteTags(Unmatched);
    }

    /// <summary>The labels of requests no route matched (or refused before routing).</summary>
    public RouteTags UnmatchedTags { get; }

    /// <summary>Also told every request's whole duration (fleet status reports); set once at start-up, before any request.</summary>
    public IRequestDurationSink? DurationSink { get; set; }

    /// <summary>The labels of a route, built on its first request; the route id comes from configuration.</summary>
    public RouteTags ForRoute(string routeId) =>
        _routes.TryGetValue(routeId, out var tags) ? tags : _routes.GetOrAdd(routeId, static id => new RouteTags(id));

    /// <summary>The whole request and the edge stage of a request answered by the edge itself (a refusal).</summary>
    public void Refused(RouteTags route, string code, CredentialType credential, long started)
    {
        var tags = route.Outcome(code, credential);
        var now = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(started, now).TotalSeconds;
        _stage.Record(elapsed, tags);
        _request.Record(elapsed, tags);
        DurationSink?.Record(route.RouteId, now - started);
    }

    /// <summary>The edge stage of a request about to be forwarded (<paramref name="forwarded"/>: the stage's end, the upstream's start).</summary>
    public void Stage(RouteTags route, string code, CredentialType credential, long started, long forwarded) =>
        _stage.Record(Stopwatch.GetElapsedTime(started, forwarded).TotalSeconds, route.Outcome(code, credential));

    /// <summary>
    /// The upstream's part (<paramref name="forwarded"/> → <paramref name="relayed"/>) and the whole request of a forwarded
    /// one (until now: a failed forward's answer included); <paramref name="code"/> is <c>ok</c> or the failed forward's.
    /// </summary>
    public void Forwarded(RouteTags route, string code, CredentialType credential, long started, long forwarded, long relayed, int status)
    {
        _upstream.Record(Stopwatch.GetElapsedTime(forwarded, relayed).TotalSeconds, route.Upstream(status));
        var now = Stopwatch.GetTimestamp();
        _request.Record(Stopwatch.GetElapsedTime(started, now).TotalSeconds, route.Outcome(code, credential));
        DurationSink?.Record(route.RouteId, now - started);
    }

    /// <summary>
    /// The credential a request presented, for its label: the identity's when authenticated, else what the
    /// Authorization header looks like (an API key by its prefix), else anonymous. Reads, never allocates.
    /// </summary>
    public static CredentialType CredentialOf(string? authType, StringValues authorization)
    {
        if (authType is not null)
        {
            return authType == IdentityHeaders.AuthTypeApiKey ? CredentialType.ApiKey : CredentialType.Jwt;
        }
        if (authorization.Count == 0)
        {
            return CredentialType.Anonymous;
        }
        var value = authorization[0].AsSpan().Trim();
        if (value.Length > 7 && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return ApiKeyFormat.HasApiKeyPrefix(value[7..].TrimStart(' ')) ? CredentialType.ApiKey : CredentialType.Jwt;
        }
        return CredentialType.Jwt; // another scheme or a malformed header: a credential, counted with tokens
    }

    /// <summary>One route's label arrays: per (decision code, credential type), and per upstream status class.</summary>
    internal sealed class RouteTags
    {
        private readonly string _routeId;
        private readonly KeyValuePair<string, object?>[][] _upstream;
        private readonly ConcurrentDictionary<(string Code, CredentialType Credential), KeyValuePair<string, object?>[]> _outcomes = new();

        public RouteTags(string routeId)
        {
            _routeId = routeId;
            _upstream = StatusClasses
                .Select(c => new KeyValuePair<string, object?>[] { new(RouteTag, routeId), new(StatusClassTag, c) })
                .ToArray();
        }

        public string RouteId => _routeId;

        public ReadOnlySpan<KeyValuePair<string, object?>> Upstream(int status) =>
            _upstream[Math.Clamp(status / 100, 1, 5) - 1];

        /// <summary>Codes are the edge's own constants (a bounded set), so this holds at most codes × 3 arrays.</summary>
        public ReadOnlySpan<KeyValuePair<string, object?>> Outcome(string code, CredentialType credential) =>
            _outcomes.TryGetValue((code, credential), out var tags) ? tags
            : _outcomes.GetOrAdd((code, credential), static (key, route) =>
            [
                new(RouteTag, route),
                new(DecisionTag, key.Code),
                new(CredentialTag, CredentialNames[(int)key.Credential]),
            ], _routeId);
    }
}
