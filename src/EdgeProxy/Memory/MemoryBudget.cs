using Authio.EdgeProxy.Configuration;

namespace Authio.EdgeProxy.Memory;

/// <summary>
/// Splits the caches' memory budget (<c>Edge:Memory:Budget</c>) between the token cache, the negative token cache,
/// the API-key caches and the rate-limit table, and caps each table's capacity to its share at start-up (a table's
/// memory is bounded by its capacity, so this bounds the whole). Per-entry sizes are the measured ones
/// (bench/README.md "Memory per cached credential"), rounded up; the token estimate assumes tokens under 1 KB.
/// A capacity the operator set below its share is kept as is.
/// </summary>
internal sealed record MemoryBudget(long Bytes, long Available, int TokenCacheCapacity, int NegativeCacheCapacity, int ApiKeyCacheCapacity,
    int RateLimitCapacity, (int Tokens, int Negative, int ApiKeys, int RateLimits) Configured)
{
    /// <summary>Bytes per cached token: slab region 384 (after the shared prefix), entry 48, identity 184, sub/sid/jti strings ≈ 200, slot 8 (≈ 830), plus room.</summary>
    public const int TokenEntryBytes = 1_024;
    /// <summary>Bytes per negative-cache entry (token bytes, entry, slot).</summary>
    public const int NegativeEntryBytes = 1_100;
    /// <summary>Bytes per API key: hot-cache entry and identity (291 measured) plus FusionCache's memory entry of the same record.</summary>
    public const int ApiKeyEntryBytes = 640;
    /// <summary>Bytes per rate-limit slot: the bucket (69 measured), the slot and its hash hint (12), a key string it may keep alive.</summary>
    public const int RateLimitSlotBytes = 160;

    /// <summary>Shares of the budget, in percent: tokens first, they are what most requests carry.</summary>
    public const int TokenShare = 70, NegativeShare = 5, ApiKeyShare = 10, RateLimitShare = 15;

    /// <summary>The budget for <paramref name="options"/> against what the runtime sees; caps the capacities in <paramref name="options"/>.</summary>
    public static MemoryBudget Apply(EdgeOptions options, long available)
    {
        if (!options.Memory.TryResolveBudget(available, out var bytes, out var error))
        {
            throw new InvalidOperationException($"{EdgeOptions.Section}:Memory:Budget {error}");
        }
        var configured = (options.Tokens.CacheCapacity, options.FailureBudget.NegativeCacheCapacity, options.ApiKeys.CacheCapacity, options.RateLimits.Capacity);
        options.Tokens.CacheCapacity = Cap(options.Tokens.CacheCapacity, bytes, TokenShare, TokenEntryBytes);
        options.FailureBudget.NegativeCacheCapacity = Cap(options.FailureBudget.NegativeCacheCapacity, bytes, NegativeShare, NegativeEntryBytes);
        options.ApiKeys.CacheCapacity = Math.Max(16, Cap(options.ApiKeys.CacheCapacity, bytes, ApiKeyShare, ApiKeyEntryBytes));
        options.RateLimits.Capacity = Math.Max(1024, Cap(options.RateLimits.Capacity, bytes, RateLimitShare, RateLimitSlotBytes));
        return new MemoryBudget(bytes, available, options.Tokens.CacheCapacity, options.FailureBudget.NegativeCacheCapacity,
            options.ApiKeys.CacheCapacity, options.RateLimits.Capacity, configured);
    }

    private static int Cap(int capacity, long budget, int sharePercent, int entryBytes) =>
        (int)Math.Min(capacity, budget * sharePercent / 100 / entryBytes);
}
