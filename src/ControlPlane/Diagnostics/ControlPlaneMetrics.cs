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

    // One meter per process, not one per DI container: OpenTelemetry keys its streams by meter and instrument name, and a
    // second container's meter of the same name being disposed (tests host several control planes) would end the
    // stream for all of them. In production a process hosts one control plane.
    private static readonly Meter Meter = new(MeterName);
    private static readonly Histogram<double> RequestDuration = Meter.CreateHistogram("http.server.request.duration", "s",
        "Duration of HTTP server requests, by endpoint template.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RequestBuckets });
    private static readonly Counter<long> SignIns = Meter.CreateCounter<long>("authio.controlplane.sign_in.attempts", "{attempt}",
        "Sign-in attempts by outcome: success, bad_password, unknown_user, locked, rate_limited, denied, invalid.");
    private static readonly Counter<long> Lockouts = Meter.CreateCounter<long>("authio.controlplane.sign_in.lockouts", "{lockout}",
        "Sign-in locks started (too many failures for one email).");
    private static readonly Counter<long> Refreshes = Meter.CreateCounter<long>("authio.controlplane.refresh.attempts", "{attempt}",
        "Refresh-token uses by outcome: success, reused (reuse detected, session revoked), idle, invalid, rate_limited.");
    private static readonly Counter<long> KeyRotations = Meter.CreateCounter<long>("authio.controlplane.signing_key.rotations", "{rotation}",
        "Signing keys created by rotation, by trigger (manual, scheduled).");
    private static readonly Counter<long> AuditWrites = Meter.CreateCounter<long>("authio.controlplane.audit.writes", "{event}", "Audit events written.");
    private static readonly Histogram<double> BcryptDuration = Meter.CreateHistogram("authio.controlplane.password.hash.duration", "s",
        "Time spent in bcrypt, by operation (hash, verify).", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = BcryptBuckets });
    private static long _changeLogHead = -1;
    private static double _oldestActiveKeyAge = -1;

    static ControlPlaneMetrics()
    {
        Meter.CreateObservableGauge("authio.controlplane.change_log.head", () => Observe(Volatile.Read(ref _changeLogHead)), "{sequence}",
            "The newest sequence of the edge change log, as last sampled.");
        Meter.CreateObservableGauge("authio.controlplane.signing_key.oldest_active_age", () => Observe(Volatile.Read(ref _oldestActiveKeyAge)), "s",
            "Age of the oldest key currently signing (across orgs), as last sampled: rotation is overdue when it exceeds the interval.");
    }

    public void RequestCompleted(string method, string route, int status, TimeSpan elapsed) =>
        RequestDuration.Record(elapsed.TotalSeconds, new TagList
        {
            { "http.request.method", KnownMethod(method) },
            { "http.route", route },
            { "http.response.status_code", status },
        });

    public void SignIn(string outcome) => SignIns.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Lockout() => Lockouts.Add(1);

    public void Refresh(string outcome) => Refreshes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void KeysRotated(string trigger, int count)
    {
        if (count > 0)
        {
            KeyRotations.Add(count, new KeyValuePair<string, object?>("trigger", trigger));
        }
    }

    public void AuditWritten() => AuditWrites.Add(1);

    public void Bcrypt(string operation, TimeSpan elapsed) => BcryptDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("operation", operation));

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
