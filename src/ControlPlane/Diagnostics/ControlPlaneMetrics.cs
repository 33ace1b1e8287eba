using System.Diagnostics;
using System.Diagnostics.Metrics;
using Authio.ControlPlane.Storage;

namespace Authio.ControlPlane.Diagnostics;

/// <summary>
/// Every control-plane instrument, on one meter (exported by the admin listener's /metrics). Services record; stores do
/// not. Every label takes a bounded set of values: route templates, fixed outcome names, status codes.
/// </summary>
internal sealed class ControlPlaneMetrics : IDisposable
{
    public const string MeterName = "Authio.ControlPlane";

    /// <summary>The label of a request no endpoint matched, so unknown paths add no label values.</summary>
    public const string UnmatchedRoute = "unmatched";

    // The OpenTelemetry semantic-convention boundaries for HTTP server durations (seconds).
    private static readonly double[] RequestBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
    // bcrypt at cost 10–14 takes tens of milliseconds to seconds; test costs (4) take about a millisecond.
    private static readonly double[] BcryptBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4];
    // A pooled checkout takes microseconds, a new PostgreSQL connection (TCP + SCRAM) milliseconds, a dry pool waits up
    // to the driver's timeout (Npgsql: 15 s): the buckets span all three.
    private static readonly double[] ConnectionWaitBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

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
    private static readonly Counter<long> WebhookAttempts = Meter.CreateCounter<long>("authio.controlplane.webhook.deliveries", "{attempt}",
        "Webhook delivery attempts by outcome: delivered, failed (retried later), dead (dead-lettered).");
    private static readonly Histogram<double> BcryptDuration = Meter.CreateHistogram("authio.controlplane.password.hash.duration", "s",
        "Time spent in bcrypt, by operation (hash, verify).", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = BcryptBuckets });
    private static readonly Histogram<double> ConnectionWait = Meter.CreateHistogram("authio.controlplane.db.connection.wait", "s",
        "Time to obtain an open database connection (pool checkout, or a new connection when none is idle).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ConnectionWaitBuckets });
    // Each control plane in the process (tests host several) reports its own sample; the gauge is their sum.
    private static readonly List<ControlPlaneMetrics> Instances = [];
    private static long _changeLogHead = -1;
    private static double _oldestActiveKeyAge = -1;

    static ControlPlaneMetrics()
    {
        Meter.CreateObservableGauge("authio.controlplane.change_log.head", () => Observe(Volatile.Read(ref _changeLogHead)), "{sequence}",
            "The newest sequence of the edge change log, as last sampled.");
        Meter.CreateObservableGauge("authio.controlplane.signing_key.oldest_active_age", () => Observe(Volatile.Read(ref _oldestActiveKeyAge)), "s",
            "Age of the oldest key currently signing (across orgs), as last sampled: rotation is overdue when it exceeds the interval.");
        Meter.CreateObservableGauge("authio.controlplane.sessions.active", ObserveSessions, "{session}",
            "Sessions that can still be used, across every org (not ended, within their org's idle timeout or holding an unexpired access token), as last sampled.");
        Meter.CreateObservableGauge("authio.controlplane.db.connections", ObserveConnections, "{connection}",
            "Database connections by state: used (checked out of the pool) and idle (kept open by the pool for reuse).");
    }

    private long _sessionsActive = -1;

    public ControlPlaneMetrics()
    {
        lock (Instances)
        {
            Instances.Add(this);
        }
    }

    public void Dispose()
    {
        lock (Instances)
        {
            Instances.Remove(this);
        }
    }

    /// <summary>
    /// Exports every outcome that can happen at 0, once the exporter listens: a counter series exists only after its first
    /// measurement, and rate() or an alert over a series that does not exist yet returns nothing rather than 0.
    /// </summary>
    public void ExportZeroOutcomes()
    {
        foreach (var outcome in SignInOutcomes.Recorded)
        {
            SignIns.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        }

        foreach (var outcome in RefreshOutcomes.Recorded)
        {
            Refreshes.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        }

        Lockouts.Add(0);
        foreach (var outcome in WebhookOutcomes.Recorded)
        {
            WebhookAttempts.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        }

    }

    /// <summary>Recorded by <see cref="Db"/>, the one place connections are opened.</summary>
    public static void ConnectionWaited(TimeSpan elapsed) => ConnectionWait.Record(elapsed.TotalSeconds);

    public void SampleSessionsActive(long count) => Volatile.Write(ref _sessionsActive, count);

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

    public void WebhookAttempt(string outcome) => WebhookAttempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Bcrypt(string operation, TimeSpan elapsed) => BcryptDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("operation", operation));

    public void SampleChangeLogHead(long sequence) => Volatile.Write(ref _changeLogHead, sequence);

    public void SampleOldestActiveKeyAge(TimeSpan? age) => Volatile.Write(ref _oldestActiveKeyAge, age is { } a ? a.TotalSeconds : -1);

    /// <summary>This control plane's last sample of live sessions; -1 before the first.</summary>
    public long SessionsActive => Volatile.Read(ref _sessionsActive);

    /// <summary>What the gauge exports: the sum of every control plane's sample in this process (one in production); null before any.</summary>
    public static long? SessionsActiveTotal()
    {
        long? sum = null;
        lock (Instances)
        {
            foreach (var instance in Instances)
            {
                if (instance.SessionsActive is var value and >= 0)
                {
                    sum = (sum ?? 0) + value;
                }
            }
        }
        return sum;
    }

    private static IEnumerable<Measurement<long>> ObserveSessions() =>
        SessionsActiveTotal() is { } total ? [new Measurement<long>(total)] : [];

    private static IEnumerable<Measurement<long>> ObserveConnections()
    {
        var (used, idle) = DbConnectionStats.Snapshot();
        return [new Measurement<long>(used, new KeyValuePair<string, object?>("state", "used")), new Measurement<long>(idle, new KeyValuePair<string, object?>("state", "idle"))];
    }

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
