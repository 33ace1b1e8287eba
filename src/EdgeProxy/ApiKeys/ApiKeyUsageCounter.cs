using System.Collections.Concurrent;
using Authio.Shared.ApiKeys;

namespace Authio.EdgeProxy.ApiKeys;

/// <summary>Uses of one key since the last report: two interlocked writes per request, no allocation.</summary>
internal sealed class ApiKeyUsageCounter(string keyId)
{
    private long _count;
    private long _lastUsedUnixMs;

    public string KeyId { get; } = keyId;

    public void Record(long nowUnixMs)
    {
        Interlocked.Increment(ref _count);
        Volatile.Write(ref _lastUsedUnixMs, nowUnixMs);
    }

    public ApiKeyUsage? Drain()
    {
        var count = Interlocked.Exchange(ref _count, 0);
        return count == 0 ? null : new ApiKeyUsage(KeyId, count, DateTimeOffset.FromUnixTimeMilliseconds(Volatile.Read(ref _lastUsedUnixMs)));
    }

    /// <summary>Puts back counts a failed report could not deliver.</summary>
    public void Restore(long count) => Interlocked.Add(ref _count, count);
}

internal sealed class ApiKeyUsageCounters
{
    private readonly ConcurrentDictionary<string, ApiKeyUsageCounter> _counters = new(StringComparer.Ordinal);

    public ApiKeyUsageCounter For(string keyId) => _counters.GetOrAdd(keyId, static id => new ApiKeyUsageCounter(id));

    public IEnumerable<ApiKeyUsageCounter> All => _counters.Values;
}
