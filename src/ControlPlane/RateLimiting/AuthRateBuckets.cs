namespace Authio.ControlPlane.RateLimiting;

/// <summary>What a bucket said about one request.</summary>
internal readonly record struct RateLimitVerdict(bool Admitted, TimeSpan RetryAfter, bool FirstRefusal)
{
    public static readonly RateLimitVerdict Admit = new(true, TimeSpan.Zero, false);

    /// <summary>Whole seconds until a retry can succeed, rounded up, at least 1 (the <c>Retry-After</c> value).</summary>
    public int RetryAfterSeconds => (int)Math.Clamp((RetryAfter.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond, 1, int.MaxValue);
}

/// <summary>
/// The GCRA buckets of one <see cref="AuthRateLimiter"/> limit, keyed by a 128-bit digest of the client address or
/// account (never the text itself), with a hard cap on entries. A bucket whose arrival time has passed is full, i.e.
/// the same as no bucket, so dropping it loses nothing: when the table is full those go first. Only if more than 7/8 of
/// the table is still active (a flood of distinct keys inside one window) are the buckets closest to full dropped, one
/// eighth of the table at a time; a dropped key starts again with a full burst (fail open: refusing unknown keys instead
/// would let a flood lock everyone out). Keys being limited right now are furthest from full, so they are the last to go.
/// </summary>
/// <remarks>
/// One lock per table: this guards sign-in, refresh and password calls that cost a database round trip (and bcrypt),
/// not the edge's hot path, so the time spent under the lock is noise next to them. The lock also makes eviction exact.
/// </remarks>
internal sealed class AuthRateBuckets
{
    private readonly Dictionary<UInt128, Bucket> _buckets = [];
    private readonly Lock _lock = new();

    private struct Bucket
    {
        /// <summary>Theoretical arrival time of the next request (ticks on the limiter's clock).</summary>
        public long Arrival;
        /// <summary>Until when a refusal has already been reported (logged/audited), so floods report once per period.</summary>
        public long ReportedUntil;
    }

    public AuthRateBuckets(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 8);
        Capacity = capacity;
    }

    /// <summary>The most keys this table ever holds.</summary>
    public int Capacity { get; }

    /// <summary>Keys held now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _buckets.Count;
            }
        }
    }

    /// <summary>Active buckets dropped to stay within <see cref="Capacity"/> since start (0 unless flooded).</summary>
    public long ActiveEvictions { get; private set; }

    /// <summary>
    /// Takes one request from <paramref name="key"/>'s bucket at <paramref name="now"/> (ticks). A refusal takes nothing;
    /// its <see cref="RateLimitVerdict.FirstRefusal"/> is true for the first refusal of the key per rule period.
    /// </summary>
    public RateLimitVerdict Take(UInt128 key, AuthRateRule rule, long now)
    {
        lock (_lock)
        {
            var known = _buckets.TryGetValue(key, out var bucket);
            var next = Math.Max(known ? bucket.Arrival : now, now) + rule.Interval;
            if (next - now > rule.Tolerance)
            {
                // Only a known bucket can refuse (a fresh one admits at least the burst of 1), so this never adds a key.
                var first = bucket.ReportedUntil <= now;
                if (first)
                {
                    bucket.ReportedUntil = now + rule.Period.Ticks;
                    _buckets[key] = bucket;
                }
                return new RateLimitVerdict(false, TimeSpan.FromTicks(next - rule.Tolerance - now), first);
            }
            if (!known && _buckets.Count >= Capacity)
            {
                Evict(now);
            }

            bucket.Arrival = next;
            _buckets[key] = bucket;
            return RateLimitVerdict.Admit;
        }
    }

    private void Evict(long now)
    {
        var target = Math.Max(1, Capacity / 8);
        var removed = 0;
        // Removing while enumerating is allowed for Dictionary (it never reorders on Remove).
        foreach (var (key, b) in _buckets)
        {
            if (b.Arrival <= now && b.ReportedUntil <= now && _buckets.Remove(key))
            {
                removed++;
            }
        }

        if (removed >= target)
        {
            return;
        }

        var arrivals = new long[_buckets.Count];
        var i = 0;
        foreach (var b in _buckets.Values)
        {
            arrivals[i++] = b.Arrival;
        }

        Array.Sort(arrivals);
        var threshold = arrivals[Math.Min(arrivals.Length, target - removed) - 1];
        // Strictly closer to full than the threshold first, then ties only as far as needed (a flood's buckets often tie).
        foreach (var (key, b) in _buckets)
        {
            if (b.Arrival < threshold && _buckets.Remove(key))
            {
                Evicted(ref removed);
            }
        }

        foreach (var (key, b) in _buckets)
        {
            if (removed >= target)
            {
                break;
            }

            if (b.Arrival == threshold && _buckets.Remove(key))
            {
                Evicted(ref removed);
            }
        }
    }

    private void Evicted(ref int removed)
    {
        removed++;
        ActiveEvictions++;
    }
}
