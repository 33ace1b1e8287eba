using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Authio.EdgeProxy.Keys;

namespace Authio.EdgeProxy.Diagnostics;

/// <summary>The edge's instruments (meter <c>Authio.Edge</c>), scraped from the admin listener's /metrics.</summary>
internal sealed class EdgeMetrics
{
    public const string MeterName = "Authio.Edge";

    /// <summary>The admitted requests' code: counted in a field of its own (one increment per admitted request).</summary>
    public const string OkCode = "ok";

    private readonly ConcurrentDictionary<string, StrongBox<long>> _refusals = new(StringComparer.Ordinal);
    private long _admitted;
    private readonly DurationSeries _authDuration;
    private readonly Counter<long> _feedRejected;
    private long _cacheHits;
    private long _cacheMisses;

    public EdgeMetrics(IMeterFactory meterFactory, IssuerRegistry issuers, TimeProvider time, IServiceProvider? services = null)
    {
        var meter = meterFactory.Create(MeterName);
        Requests = new RequestMetrics();
        var authentication = new DurationHistogram(RequestMetrics.PrometheusName("authio.edge.authentication.duration"),
            "Time spent authenticating and authorizing a request at the edge.", [1e-7, 5e-7, 1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 1e-2]);
        _authDuration = authentication.Series();
        Histograms = [authentication, Requests.StageDuration, Requests.Upstream, Requests.Request];
        Stages = new StageMetrics(meter);
        if (services is not null)
        {
            StateGauges.Register(meter, services);
        }
        // Both per-request counts are plain fields the scrape reads (observable counters): an instrument's Add costs
        // every request a tag-set lookup in the SDK's aggregator, which showed in a profile of the edge under load
        // (load/README.md "Where the rest goes"); the field's increment is all the request pays.
        meter.CreateObservableCounter("authio.edge.decisions", Decisions, description: "Authentication and authorization decisions by outcome code.");
        meter.CreateObservableCounter("authio.edge.token_cache.lookups", () => new[]
        {
            new Measurement<long>(Interlocked.Read(ref _cacheHits), new KeyValuePair<string, object?>("result", "hit")),
            new Measurement<long>(Interlocked.Read(ref _cacheMisses), new KeyValuePair<string, object?>("result", "miss")),
        }, description: "Validated-token cache lookups by result.");
        _feedRejected = meter.CreateCounter<long>("authio.edge.feed.rejected",
            description: "Redis change-feed entries not applied (failed signature, unknown key, replayed, or untrusted without a feed key), by reason; each range was read over HTTP instead.");
        meter.CreateObservableGauge("authio.edge.token_cache.hit_ratio", () =>
        {
            var hits = Interlocked.Read(ref _cacheHits);
            var total = hits + Interlocked.Read(ref _cacheMisses);
            return total == 0 ? 0d : (double)hits / total;
        }, description: "Share of token-cache lookups that hit since start.");
        meter.CreateObservableGauge("authio.edge.jwks.age", () => issuers.Issuers
            .Where(i => i.Keys is not null)
            .Select(i => new Measurement<double>((time.GetUtcNow() - i.Keys!.LoadedAt).TotalSeconds, new KeyValuePair<string, object?>("issuer", i.Name))),
            unit: "s", description: "Age of each issuer's key set since its last successful load.");
        meter.CreateObservableGauge("authio.edge.key_set.refused", () => issuers.Health.RefusedCount,
            description: "Orgs (or whole key sets) whose latest key update this edge refused; their last good keys are in use.");
        meter.CreateObservableCounter("authio.edge.key_set.refusals", () => issuers.Health.RefusedTotal,
            description: "Key-set updates refused since start (bad JWK, over a bound).");
        meter.CreateObservableGauge("authio.edge.keys", () => issuers.Index.Asymmetric.Length,
            description: "Verification keys held, every issuer and org.");
    }

    /// <summary>
    /// The histograms every request records, kept by the edge itself and written by the admin listener's /metrics
    /// beside the meter's instruments (<see cref="DurationHistogram"/>).
    /// </summary>
    public IReadOnlyList<DurationHistogram> Histograms { get; }

    /// <summary>Per-route request, edge-stage and upstream durations.</summary>
    public RequestMetrics Requests { get; }

    /// <summary>Negative cache, signatures, failure budget, rate limits, revocation confirmations, key refreshes.</summary>
    public StageMetrics Stages { get; }

    public void FeedRejected(string reason) => _feedRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Decision(string code)
    {
        if (string.Equals(code, OkCode, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _admitted);
            return;
        }
        Interlocked.Increment(ref _refusals.GetOrAdd(code, static _ => new StrongBox<long>()).Value);
    }

    private IEnumerable<Measurement<long>> Decisions()
    {
        var admitted = Interlocked.Read(ref _admitted);
        if (admitted > 0)
        {
            yield return new Measurement<long>(admitted, new KeyValuePair<string, object?>("code", OkCode));
        }
        foreach (var (code, count) in _refusals)
        {
            yield return new Measurement<long>(Interlocked.Read(ref count.Value), new KeyValuePair<string, object?>("code", code));
        }
    }

    public void CacheHit() => Interlocked.Increment(ref _cacheHits);

    public void CacheMiss() => Interlocked.Increment(ref _cacheMisses);

    public void AuthenticationTime(long startTimestamp) => _authDuration.Record(Stopwatch.GetTimestamp() - startTimestamp);
}
