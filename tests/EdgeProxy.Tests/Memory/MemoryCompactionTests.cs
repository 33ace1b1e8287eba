using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Memory;
using Authio.EdgeProxy.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Authio.EdgeProxy.Tests.Memory;

/// <summary>
/// Dead cache entries leave free space in generation 2 that background collections never compact; the memory monitor
/// compacts once it is large, at most every <see cref="MemoryPressureMonitor.CompactIntervalSeconds"/>, and drops nothing.
/// </summary>
public sealed class MemoryCompactionTests
{
    private const long MiB = 1L << 20;

    [Fact]
    public void Free_space_left_by_dead_entries_is_compacted_at_most_once_per_interval_and_no_entry_is_dropped()
    {
        var time = new FakeTimeProvider();
        var tokens = new TokenCache(64);
        var token = "aaaa.bbbb.cccc"u8.ToArray();
        tokens.Add(token, new EdgeIdentity { Subject = "a", Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = long.MaxValue });
        var sample = new MemorySample(MemoryLoadBytes: 1, HighMemoryLoadThresholdBytes: 1000, HeapSizeBytes: 120 * MiB, CommittedBytes: 130 * MiB,
            LiveAfterFullBytes: 95 * MiB, FragmentedAfterFullBytes: 25 * MiB);
        var monitor = new MemoryPressureMonitor(new EdgeMemoryOptions(), new MemoryBudget(1L << 30, 1L << 30, 0, 0, 0, 0, default), tokens,
            new NegativeTokenCache(64), new ApiKeyHotCache(64), new BucketTable(1024), time, NullLogger<MemoryPressureMonitor>.Instance, () => sample);
        var fullCollections = GC.CollectionCount(GC.MaxGeneration);

        Assert.False(monitor.CheckOnce()); // not pressure: nothing shed
        Assert.Equal(1, monitor.Compactions);
        Assert.True(GC.CollectionCount(GC.MaxGeneration) > fullCollections);

        time.Advance(TimeSpan.FromSeconds(MemoryPressureMonitor.CompactIntervalSeconds - 1));
        monitor.CheckOnce();
        Assert.Equal(1, monitor.Compactions);

        time.Advance(TimeSpan.FromSeconds(2));
        monitor.CheckOnce();
        Assert.Equal(2, monitor.Compactions);
        Assert.True(tokens.TryGet(token, out _));
        Assert.Equal(0, monitor.Trims);
    }

    [Fact]
    public void A_little_free_space_is_left_to_the_allocator()
    {
        var time = new FakeTimeProvider();
        var sample = new MemorySample(MemoryLoadBytes: 1, HighMemoryLoadThresholdBytes: 1000, HeapSizeBytes: 400 * MiB, CommittedBytes: 420 * MiB,
            LiveAfterFullBytes: 380 * MiB, FragmentedAfterFullBytes: 20 * MiB); // over 16 MiB, but 5 % of the heap
        var monitor = new MemoryPressureMonitor(new EdgeMemoryOptions(), new MemoryBudget(1L << 30, 1L << 30, 0, 0, 0, 0, default), new TokenCache(64),
            new NegativeTokenCache(64), new ApiKeyHotCache(64), new BucketTable(1024), time, NullLogger<MemoryPressureMonitor>.Instance, () => sample);

        monitor.CheckOnce();

        Assert.Equal(0, monitor.Compactions);
    }
}
