using System.Collections.Concurrent;
using System.Diagnostics;
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
/// Per-route request histograms: <c>http.server.request.duration</c> (OTel semantic convention name; <c>http.route</c>
/// is the YARP route id, <c>unmatched</c> without one), the edge stage and the upstream. Labels are bounded: route ids
/// come from configuration, decision codes from the edge's fixed error set, status classes and credential types are
/// fixed. Recorded by the edge itself (<see cref="DurationHistogram"/>: every request records two or three), each
/// route holding its series, so recording allocates and looks up nothing in steady state.
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

    private readonly ConcurrentDictionary<string, RouteTags> _routes = new(StringComparer.Ordinal);

    public RequestMetrics()
    {
        Request = new DurationHistogram(PrometheusName(RequestDurationName),
            "Duration of HTTP server requests at the edge, by route, decision code and credential type.",
            RequestBuckets, PrometheusName(RouteTag), PrometheusName(DecisionTag), PrometheusName(CredentialTag));
        StageDuration = new DurationHistogram(PrometheusName(StageDurationName),
            "Time spent in the edge stage before forwarding (or refusing), by route, decision code and credential type.",
            StageBuckets, PrometheusName(RouteTag), PrometheusName(DecisionTag), PrometheusName(CredentialTag));
        Upstream = new DurationHistogram(PrometheusName(UpstreamDurationName),
            "Time from forwarding to the upstream's response (or the forwarder's failure), by route and status class.",
            RequestBuckets, PrometheusName(RouteTag), PrometheusName(StatusClassTag));
        UnmatchedTags = new RouteTags(this, Unmatched);
    }

    public DurationHistogram Request { get; }

    public DurationHistogram StageDuration { get; }

    public DurationHistogram Upstream { get; }

    /// <summary>The labels of requests no route matched (or refused before routing).</summary>
    public RouteTags UnmatchedTags { get; }

    /// <summary>Also told every request's whole duration (fleet status reports); set once at start-up, before any request.</summary>
    public IRequestDurationSink? DurationSink { get; set; }

    /// <summary>An instrument name as the Prometheus exposition spells it (dots to underscores, seconds as a suffix).</summary>
    internal static string PrometheusName(string name) =>
        name.Replace('.', '_') + (name.EndsWith(".duration", StringComparison.Ordinal) ? "_seconds" : "");

    /// <summary>The series of a route, made on its first request; the route id comes from configuration.</summary>
    public RouteTags ForRoute(string routeId) =>
        _routes.TryGetValue(routeId, out var tags) ? tags : _routes.GetOrAdd(routeId, static (id, metrics) => new RouteTags(metrics, id), this);

    /// <summary>The whole request and the edge stage of a request answered by the edge itself (a refusal).</summary>
    public void Refused(RouteTags route, string code, CredentialType credential, long started)
    {
        var outcome = route.Outcome(code, credential);
        var elapsed = Stopwatch.GetTimestamp() - started;
        outcome.Stage.Record(elapsed);
        outcome.Request.Record(elapsed);
        DurationSink?.Record(route.RouteId, elapsed);
    }

    /// <summary>The edge stage of a request about to be forwarded (<paramref name="forwarded"/>: the stage's end, the upstream's start).</summary>
    public void Stage(RouteTags route, string code, CredentialType credential, long started, long forwarded) =>
        route.Outcome(code, credential).Stage.Record(forwarded - started);

    /// <summary>
    /// The upstream's part (<paramref name="forwarded"/> → <paramref name="relayed"/>) and the whole request of a forwarded
    /// one (<paramref name="started"/> → <paramref name="ended"/>: a failed forward's answer included); <paramref name="code"/>
    /// is <c>ok</c> or the failed forward's.
    /// </summary>
    public void Forwarded(RouteTags route, string code, CredentialType credential, long started, long forwarded, long relayed, long ended, int status)
    {
        route.Upstream(status).Record(relayed - forwarded);
        var elapsed = ended - started;
        route.Outcome(code, credential).Request.Record(elapsed);
        DurationSink?.Record(route.RouteId, elapsed);
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

    /// <summary>The stage and whole-request series of one (decision code, credential type) on a route.</summary>
    internal sealed record OutcomeSeries(DurationSeries Stage, DurationSeries Request);

    /// <summary>One route's series: per (decision code, credential type), and per upstream status class.</summary>
    internal sealed class RouteTags
    {
        private readonly RequestMetrics _metrics;
        // By status class, each made on the class's first answer: a route nothing was forwarded on has none.
        private readonly DurationSeries?[] _upstream = new DurationSeries?[StatusClasses.Length];
        // The admitted outcome, by credential type: the common case, one array index.
        private readonly OutcomeSeries?[] _ok = new OutcomeSeries?[CredentialNames.Length];
        private readonly ConcurrentDictionary<(string Code, CredentialType Credential), OutcomeSeries> _outcomes = new();

        public RouteTags(RequestMetrics metrics, string routeId)
        {
            _metrics = metrics;
            RouteId = routeId;
        }

        public string RouteId { get; }

        public DurationSeries Upstream(int status)
        {
            var index = Math.Clamp(status / 100, 1, 5) - 1;
            return _upstream[index] ??= _metrics.Upstream.Series(RouteId, StatusClasses[index]);
        }

        /// <summary>Codes are the edge's own constants (a bounded set), so this holds at most codes × 3 pairs of series.</summary>
        public OutcomeSeries Outcome(string code, CredentialType credential)
        {
            if (string.Equals(code, EdgeMetrics.OkCode, StringComparison.Ordinal))
            {
                return _ok[(int)credential] ??= Create(code, credential);
            }
            return _outcomes.TryGetValue((code, credential), out var series) ? series
                : _outcomes.GetOrAdd((code, credential), static (key, route) => route.Create(key.Code, key.Credential), this);
        }

        private OutcomeSeries Create(string code, CredentialType credential) => new(
            _metrics.StageDuration.Series(RouteId, code, CredentialNames[(int)credential]),
            _metrics.Request.Series(RouteId, code, CredentialNames[(int)credential]));
    }
}
