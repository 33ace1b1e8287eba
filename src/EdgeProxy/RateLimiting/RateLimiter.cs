using System.Net;
using System.Runtime.CompilerServices;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Policy;

namespace Authio.EdgeProxy.RateLimiting;

/// <summary>The outcome of one check. <see cref="RetryAfterSeconds"/> is ≥ 1 when refused.</summary>
internal readonly record struct RateLimitDecision(RateLimitPolicy Limit, bool Allowed, long Remaining, long ResetSeconds, long RetryAfterSeconds);

/// <summary>
/// Resolves which limit applies to a request (route metadata → the caller's org → <c>Edge:RateLimits:Default</c>),
/// picks the bucket key, and runs the check: local GCRA, or the fleet lease for <c>global</c> limits.
/// </summary>
internal sealed class RateLimiter : IDisposable
{
    public const string PolicyHeaderName = "RateLimit-Policy";
    public const string HeaderName = "RateLimit";

    private readonly BucketTable _table;
    private readonly IOrgRateLimits _orgs;
    private readonly RateLimitPolicy? _default;
    private readonly CoarseClock _clock;
    private readonly IGlobalLimits _global;

    /// <summary>From <c>Edge:RateLimits</c> (validated at start-up), global limits through <paramref name="global"/>.</summary>
    public RateLimiter(BucketTable table, IOrgRateLimits orgs, EdgeOptions options, TimeProvider time, IGlobalLimits global)
        : this(table, orgs, DefaultLimit(options.RateLimits), options.RateLimits.ExpectedEdges, time, global)
    {
    }

    /// <summary>Without <paramref name="leases"/> a global limit is enforced as this edge's share (<see cref="LocalShareLimits"/>).</summary>
    public RateLimiter(BucketTable table, IOrgRateLimits orgs, RateLimitPolicy? defaultLimit, int expectedEdges, TimeProvider time, IGlobalLimits? leases)
    {
        _table = table;
        _orgs = orgs;
        _default = defaultLimit;
        _clock = new CoarseClock(time);
        _global = leases ?? new LocalShareLimits(expectedEdges, time);
    }

    private static RateLimitPolicy? DefaultLimit(EdgeRateLimitOptions settings) =>
        !string.IsNullOrWhiteSpace(settings.Default) && RateLimitPolicy.TryParse("default", settings.Default, out var limit, out _) ? limit : null;

    public void Dispose() => _clock.Dispose();

    public BucketTable Table => _table;

    /// <summary>The limit for this request, or null when none applies (then no RateLimit headers are sent).</summary>
    public RateLimitPolicy? Resolve(RateLimitPolicy? routeLimit, EdgeIdentity? identity)
    {
        if (routeLimit is not null)
        {
            return routeLimit;
        }
        if (identity?.Org is { } org && _orgs.TryGet(org, out var orgLimit))
        {
            return orgLimit;
        }
        return _default;
    }

    /// <summary>
    /// Checks the request against its limit and writes <c>RateLimit-Policy</c> and <c>RateLimit</c> on the response
    /// (allowed or not). Returns false when refused; the caller answers 429 and never calls the upstream.
    /// </summary>
    public bool Admit(HttpContext context, RoutePolicy policy, EdgeIdentity? identity, out RateLimitDecision decision)
    {
        var limit = Resolve(policy.RateLimit, identity);
        if (limit is null)
        {
            decision = default;
            return true;
        }
        decision = Check(limit, identity, context.Connection.RemoteIpAddress);
        var headers = context.Response.Headers;
        headers[PolicyHeaderName] = decision.Limit.PolicyHeader;
        headers[HeaderName] = FormatHeader(decision);
        return decision.Allowed;
    }

    /// <summary>
    /// A failed authentication or authorization (any 4xx of the credential checks) on a limited route: charged to the
    /// client address's failure bucket of that limit — its own bucket, so someone else's bad tokens never spend a
    /// caller's quota — and answered with that bucket's <c>RateLimit-Policy</c> and <c>RateLimit</c>. Returns false
    /// once the bucket is empty: the caller answers 429 instead of the 401/403. A <c>global</c> limit is applied to
    /// failures per edge, without Redis. With <paramref name="charge"/> false (a genuine credential's state, such as an
    /// expired token: see <c>FailureCharges</c>) the bucket is only reported, never spent, and the failure is never a 429.
    /// </summary>
    public bool AdmitFailure(HttpContext context, RoutePolicy policy, EdgeIdentity? identity, bool charge, out RateLimitDecision decision)
    {
        var limit = Resolve(policy.RateLimit, identity);
        if (limit is null)
        {
            decision = default;
            return true;
        }
        var address = _table.AddressKeyOf(context.Connection.RemoteIpAddress);
        var now = _clock.Now;
        var bucket = _table.Get(limit, BucketKeyKind.FailedIp, null, address, now);
        decision = charge ? Local(bucket, limit, now, _clock.Frequency) : Peek(bucket, limit, now, _clock.Frequency);
        if (!decision.Allowed)
        {
            decision = Local(bucket, limit, _clock.Exact(), _clock.Frequency);
        }
        var headers = context.Response.Headers;
        headers[PolicyHeaderName] = decision.Limit.PolicyHeader;
        headers[HeaderName] = FormatHeader(decision);
        return decision.Allowed;
    }

    // Cost incl. the key lookup: RateLimitBenchmarks (figures in bench/README.md).
    public RateLimitDecision Check(RateLimitPolicy limit, EdgeIdentity? identity, IPAddress? client)
    {
        // The cached clock (CoarseClock: one field read, not a ≈ 30 ns clock read); refusals re-check on the exact clock.
        var now = _clock.Now;
        var (kind, text) = KeyOf(limit.Scope, identity);
        var bucket = _table.Get(limit, kind, text, kind == BucketKeyKind.Ip ? _table.AddressKeyOf(client) : default, now);
        if (bucket.Lease is not null)
        {
            return _global.Check(bucket, now);
        }
        var decision = Local(bucket, limit, now, _clock.Frequency);
        return decision.Allowed ? decision : Local(bucket, limit, _clock.Exact(), _clock.Frequency);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (BucketKeyKind Kind, string? Text) KeyOf(RateLimitScope scope, EdgeIdentity? identity)
    {
        if (identity is null || scope == RateLimitScope.Ip)
        {
            // Anonymous traffic has no other key.
            return (BucketKeyKind.Ip, null);
        }
        if (scope == RateLimitScope.Org && identity.Org is { } org)
        {
            return (BucketKeyKind.Org, org);
        }
        if (scope == RateLimitScope.Subject && identity.Subject is { } subject)
        {
            return (BucketKeyKind.Subject, subject);
        }
        // Credential, or a narrower key the identity lacks (an API key has no subject; a token may have no org).
        return identity.KeyId is { } keyId ? (BucketKeyKind.ApiKey, keyId) : (BucketKeyKind.Subject, identity.Subject ?? "");
    }

    /// <summary>GCRA on the bucket's theoretical arrival time: one CAS when admitted, none when refused.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static RateLimitDecision Local(Bucket bucket, RateLimitPolicy limit, long now, long frequency)
    {
        var gcra = limit.Constants(frequency);
        while (true)
        {
            var arrival = Volatile.Read(ref bucket.TheoreticalArrival);
            var next = Math.Max(arrival, now) + gcra.Interval;
            var debt = next - now;
            if (debt > gcra.Capacity)
            {
                var wait = debt - gcra.Capacity;
                return new RateLimitDecision(limit, false, 0, Seconds(wait, frequency), Seconds(wait, frequency));
            }
            if (Interlocked.CompareExchange(ref bucket.TheoreticalArrival, next, arrival) == arrival)
            {
                return new RateLimitDecision(limit, true, (gcra.Capacity - debt) / gcra.Interval, Seconds(debt, frequency), 0);
            }
        }
    }

    /// <summary>The bucket's state without spending it: always allowed.</summary>
    private static RateLimitDecision Peek(Bucket bucket, RateLimitPolicy limit, long now, long frequency)
    {
        var gcra = limit.Constants(frequency);
        var debt = Math.Max(Volatile.Read(ref bucket.TheoreticalArrival), now) - now;
        return new RateLimitDecision(limit, true, Math.Max(0, (gcra.Capacity - debt) / gcra.Interval), Seconds(debt, frequency), 0);
    }

    /// <summary>Whole seconds, rounded up, at least 1 (Retry-After and the reset must never say "now" while refusing).</summary>
    internal static long Seconds(long ticks, long frequency) => Math.Max(1, (ticks + frequency - 1) / frequency);

    private static string FormatHeader(in RateLimitDecision decision) => decision.Limit.Headers.Get(decision.Remaining, decision.ResetSeconds);
}

/// <summary>GCRA constants of one limit for one clock frequency, computed once.</summary>
internal sealed class GcraConstants(long frequency, long interval, long capacity)
{
    public readonly long Frequency = frequency;
    /// <summary>Emission interval: ticks per request at the sustained rate.</summary>
    public readonly long Interval = interval;
    /// <summary>Burst × interval: how far ahead of now the theoretical arrival time may run.</summary>
    public readonly long Capacity = capacity;
}
