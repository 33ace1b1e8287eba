namespace Authio.EdgeProxy.RateLimiting;

/// <summary>An edge's share of one fleet-wide bucket: tokens leased from Redis, handed out locally.</summary>
internal sealed class GlobalLease(long now)
{
    /// <summary>Leased tokens this edge may still admit (taken with one CAS each).</summary>
    public long Tokens;
    /// <summary>Checks since the last refill, admitted or not: the input of the lease-size estimate.</summary>
    public long Demand;
    /// <summary>Admitted on the local share before the first lease arrived; charged to the Redis bucket on the next refill.</summary>
    public long Debt;
    /// <summary>1 while a refill is queued or in flight: at most one Redis call per bucket at a time.</summary>
    public int Requesting;
    /// <summary>When the pending refill was queued: a refill pending too long means Redis is slow or gone.</summary>
    public long RequestedAt;
    /// <summary>No refill before this timestamp (Redis said its bucket is empty until then).</summary>
    public long NextRequestAt;
    /// <summary>When Redis expects the next token: the Retry-After of a refused request.</summary>
    public long RetryAt;
    /// <summary>Eviction hint: a bucket refilled recently is not "idle" even though its local GCRA state is.</summary>
    public long KeepUntil;
    /// <summary>Refill when <see cref="Tokens"/> falls to this, so the next lease arrives before the current one runs out.</summary>
    public long LowWater;
    /// <summary>Redis still held tokens after its last grant: a dry lease may borrow from the local share until the next one.</summary>
    public bool Spare;
    /// <summary>Set once Redis has answered for this bucket; before that the bucket runs on the local share.</summary>
    public bool Established;
    // Background-only state.
    public long LastRefillAt = now;
    public double Rate;
    public string? RedisKey;
}
