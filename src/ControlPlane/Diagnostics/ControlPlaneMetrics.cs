using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Authio.ControlPlane.Diagnostics;

/// <summary>
/// Every control-plane instrument, on one meter (exported by the admin listener's /metrics). Services record; stores do
/// not. Every label takes a bounded set of values: route templates, fixed outcome names, status codes.
/// </summary>
internal sealed class ControlPlaneMetrics
{
    public const string MeterName = "Authio.ControlPlane";

    /// <summary>The label of a request no endpoint matched, so unknown paths add no label values.</summary>
    public const string UnmatchedRoute = "unmatched";

    // The OpenTelemetry semantic-convention boundaries for HTTP server durations (seconds).
    private static readonly double[] RequestBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
    // bcrypt at cost 10–14 takes tens of milliseconds to seconds; test costs (4) take about a millisecond.
    private static readonly double[] BcryptBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4];

    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _signIns;
    private readonly Counter<long> _refreshes;
    private readonly Counter<long> _lockouts;
    private readonly Counter<long> _keyRotations;
    private readonly Counter<long> _auditWrites;
    private readonly Histogram<double> _bcrypt;
    private long _changeLogHead = -1;
    private double _oldestActiveKeyAge = -1;

    public ControlPlaneMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _requestDuration = meter.CreateHistogram("http.server.request.duration", "s", "Duration of HTTP server requests, by endpoint template.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RequestBuckets });
        _signIns = meter.CreateCounter<long>("authio.controlplane.sign_in.attempts", "{attempt}",
            "Sign-in attempts by outcome: success, bad_password, unknown_user, locked, rate_limited, denied, invalid.");
        _refreshes = meter.CreateCounter<long>("authio.controlplane.refresh.attempts", "{attempt}",
            "Refresh-token uses by outcome: success, reused (reuse detected, session revoked), idle, invalid, rate_limited.");
        _lockouts = meter.CreateCounter<long>("authio.controlplane.sign_in.lockouts", "{lockout}", "Sign-in locks started (too many failures for one email).");
        _keyRotations = meter.CreateCounter<long>("authio.controlplane.signing_key.rotations", "{rotation}",
            "Signing keys created by rotation, by trigger (manual, scheduled).");
        _auditWrites = meter.CreateCounter<long>("authio.controlplane.audit.writes", "{event}", "Audit events written.");
        _bcrypt = meter.CreateHistogram("authio.controlplane.password.hash.duration", "s", "Time spent in bcrypt, by operation (hash, verify).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = BcryptBuckets });
        meter.CreateObservableGauge("authio.controlplane.change_log.head", () => Observe(Volatile.Read(ref _changeLogHead)), "{sequence}",
            "The newest sequence of the edge change log, as last sampled.");
        meter.CreateObservableGauge("authio.controlplane.signing_key.oldest_active_age", () => Observe(Volatile.Read(ref _oldestActiveKeyAge)), "s",
            "Age of the oldest key currently signing (across orgs), as last sampled: rotation is overdue when it exceeds the interval.");
    }

    public void RequestCompleted(string method, string route, int status, TimeSpan elapsed) =>
        _requestDuration.Record(elapsed.TotalSeconds, new TagList
        {
            { "http.request.method", KnownMethod(method) },
            { "http.route", route },
            { "http.response.status_code", status },
        });

    public void SignIn(string outcome) => _signIns.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Lockout() => _lockouts.Add(1);

    public void Refresh(string outcome) => _refreshes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void KeysRotated(string trigger, int count)
    {
        if (count > 0)
        {
            _keyRotations.Add(count, new KeyValuePair<string, object?>("trigger", trigger));
        }
    }

    public void AuditWritten() => _auditWrites.Add(1);

    public void Bcrypt(string operation, TimeSpan elapsed) => _bcrypt.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("operation", operation));

    public void SampleChangeLogHead(long sequence) => Volatile.Write(ref _changeLogHead, sequence);

    public void SampleOldestActiveKeyAge(TimeSpan? age) => Volatile.Write(ref _oldestActiveKeyAge, age is { } a ? a.TotalSeconds : -1);

    private static IEnumerable<Measurement<T>> Observe<T>(T value) where T : struct, IComparable<T> =>
        // Nothing until the first sample: a made-up zero would read as a real head or a brand-new key.
        value.CompareTo(default) < 0 ? [] : [new Measurement<T>(value)];

    // The method comes from the client: any other string would be a new label value.
    private static string KnownMethod(string method) => method switch
    {
        "GET" or "POST" or "PUT" or "PATCH" or "DELETE" or "HEAD" or "OPTIONS" => method,
        _ => "_OTHER",
    };
}
