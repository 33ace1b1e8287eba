using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Hosting;
using Authio.EdgeProxy.Memory;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Authio.EdgeProxy.Tests.Memory;

public sealed class MemoryBudgetTests
{
    private const long GiB = 1L << 30;

    [Theory]
    [InlineData("Edge:Memory:Budget", "lots")]
    [InlineData("Edge:Memory:Budget", "1MiB")]
    [InlineData("Edge:Memory:Budget", "95%")]
    [InlineData("Edge:Memory:Budget", "64TiB")]
    [InlineData("Edge:Memory:PressureThreshold", "0.2")]
    [InlineData("Edge:Memory:CheckInterval", "00:00:00.010")]
    public void Bad_memory_settings_stop_startup_naming_the_key(string key, string value)
    {
        var config = EdgeTestHost.DefaultConfig("http://127.0.0.1:1/", "http://127.0.0.1:1/jwks.json");
        config[key] = value;
        var error = Assert.Throws<ConfigurationException>(() => EdgeApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(config);
            b.Logging.ClearProviders();
        }));
        Assert.Contains(key, error.Message);
    }

    [Theory]
    [InlineData(null, GiB)]
    [InlineData("40%", (long)(GiB * 0.8))]
    [InlineData("128MiB", 128L << 20)]
    [InlineData("134217728", 128L << 20)]
    [InlineData("1GiB", GiB)]
    public void The_budget_is_a_size_or_a_share_of_what_the_runtime_sees(string? budget, long expected)
    {
        var options = new EdgeMemoryOptions { Budget = budget };
        Assert.True(options.TryResolveBudget(2 * GiB, out var bytes, out var error), error);
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void A_small_budget_caps_every_cache_and_a_large_one_keeps_the_configured_sizes()
    {
        var small = new EdgeOptions { Memory = new EdgeMemoryOptions { Budget = "32MiB" } };
        var budget = MemoryBudget.Apply(small, 160L << 20);
        Assert.Equal(32L << 20, budget.Bytes);
        // 70 % of 32 MiB for tokens at the estimated bytes per token: far fewer than the default 100 000.
        Assert.Equal((int)((32L << 20) * MemoryBudget.TokenShare / 100 / MemoryBudget.TokenEntryBytes), small.Tokens.CacheCapacity);
        Assert.True(small.Tokens.CacheCapacity < 100_000);
        Assert.True(small.RateLimits.Capacity < 262_144);
        Assert.True(small.ApiKeys.CacheCapacity < 65_536);
        var estimated = (long)small.Tokens.CacheCapacity * MemoryBudget.TokenEntryBytes + (long)small.FailureBudget.NegativeCacheCapacity * MemoryBudget.NegativeEntryBytes
            + (long)small.ApiKeys.CacheCapacity * MemoryBudget.ApiKeyEntryBytes + (long)small.RateLimits.Capacity * MemoryBudget.RateLimitSlotBytes;
        Assert.True(estimated <= budget.Bytes, $"{estimated} > {budget.Bytes}");

        var large = new EdgeOptions();
        MemoryBudget.Apply(large, 64 * GiB);
        Assert.Equal(100_000, large.Tokens.CacheCapacity);
        Assert.Equal(262_144, large.RateLimits.Capacity);
    }

    [Fact]
    public void The_token_cache_holds_exactly_its_configured_capacity()
    {
        var cache = new TokenCache(100_000);
        Assert.Equal(100_000, cache.Capacity);
        var identity = Identity();
        for (var i = 0; i < 300_000; i++)
        {
            cache.Add(System.Text.Encoding.ASCII.GetBytes("token-" + i), identity);
        }
        Assert.InRange(cache.Count(), 90_000, 100_000);
        Assert.True(cache.Evictions >= 200_000);
    }

    [Fact]
    public void Under_memory_pressure_the_caches_shed_cold_entries_and_keep_the_hot_ones()
    {
        var time = new FakeTimeProvider();
        var tokens = new TokenCache(1000);
        var identity = Identity();
        var keys = Enumerable.Range(0, 1000).Select(i => System.Text.Encoding.ASCII.GetBytes("token-" + i)).ToArray();
        foreach (var key in keys)
        {
            tokens.Add(key, identity);
        }
        // 100 tokens in use (a hit marks them); the rest were cached once and never came back.
        var hot = keys.Where(k => tokens.TryGet(k, out _)).Take(100).ToArray();
        Assert.Equal(100, hot.Length);
        var buckets = new BucketTable(1024);
        Assert.True(RateLimitPolicy.TryParse("t", "10/1s", out var limit, out _));
        for (var i = 0; i < 200; i++)
        {
            buckets.Get(limit, BucketKeyKind.Subject, "user-" + i, 0, time.GetTimestamp());
        }
        time.Advance(TimeSpan.FromMinutes(1)); // every bucket is full again: idle
        var sample = new MemorySample(MemoryLoadBytes: 950, HighMemoryLoadThresholdBytes: 1000, HeapSizeBytes: 1, CommittedBytes: 1);
        var monitor = new MemoryPressureMonitor(new EdgeMemoryOptions(), new MemoryBudget(GiB, GiB, 0, 0, 0, 0, default), tokens,
            new NegativeTokenCache(64), new ApiKeyHotCache(64), buckets, time, NullLogger<MemoryPressureMonitor>.Instance, () => sample);

        Assert.True(monitor.CheckOnce());

        Assert.InRange(tokens.Count(), 1, 500);
        Assert.All(hot, key => Assert.True(tokens.TryGet(key, out _), "a hot token was shed before the cold ones"));
        Assert.Equal(0, buckets.Count());
        Assert.Equal(1, monitor.Trims);
    }

    [Fact]
    public void Without_pressure_nothing_is_shed()
    {
        var time = new FakeTimeProvider();
        var tokens = new TokenCache(64);
        tokens.Add("token"u8, Identity());
        var sample = new MemorySample(MemoryLoadBytes: 500, HighMemoryLoadThresholdBytes: 1000, HeapSizeBytes: 1, CommittedBytes: 1);
        var monitor = new MemoryPressureMonitor(new EdgeMemoryOptions(), new MemoryBudget(GiB, GiB, 0, 0, 0, 0, default), tokens,
            new NegativeTokenCache(64), new ApiKeyHotCache(64), new BucketTable(1024), time, NullLogger<MemoryPressureMonitor>.Instance, () => sample);
        Assert.False(monitor.CheckOnce());
        Assert.Equal(1, tokens.Count());
    }

    [Fact]
    public void Identities_of_tokens_with_the_same_scopes_and_org_share_them()
    {
        var first = IdentityInterning.Scopes("read:applications write:applications");
        var second = IdentityInterning.Scopes("read:applications write:applications");
        Assert.Same(first, second);
        Assert.Equal(["read:applications", "write:applications"], first.Scopes);
        Assert.Equal("read:applications write:applications", first.Header);
        Assert.True(first.Granted.Covers("write:applications"));
        Assert.Same(IdentityInterning.String(new string("org_acme".AsSpan())), IdentityInterning.String(new string("org_acme".AsSpan())));
    }

    [Fact]
    public async Task A_slab_region_being_rewritten_never_answers_for_another_token()
    {
        // One set (2 slots): a writer keeps replacing its tokens (same length, so the same slab bytes are rewritten) while
        // readers look up one of them; every hit must carry that token's own identity. Bounded in count and time.
        var cache = new TokenCache(2);
        var tokens = Enumerable.Range(0, 8).Select(i => System.Text.Encoding.ASCII.GetBytes($"token-{i}-" + new string((char)('a' + i), 500))).ToArray();
        var identities = tokens.Select((_, i) => new EdgeIdentity { Subject = "s" + i, Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = i }).ToArray();
        // A ceiling only: the loops end on their own once every reader has read and hit; dedicated threads, so a busy
        // thread pool in a parallel test run cannot keep the writer or a reader from starting.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var wrong = 0;
        var hits = 0;
        var readersDone = 0;
        // The writer keeps rewriting for as long as readers read, so every hit they count raced with a rewrite (on a
        // busy machine the readers may start late).
        var writer = Task.Factory.StartNew(() =>
        {
            for (var n = 0; Volatile.Read(ref readersDone) < 2 && !stop.IsCancellationRequested; n++)
            {
                cache.Add(tokens[n % tokens.Length], identities[n % tokens.Length]);
            }
        }, TaskCreationOptions.LongRunning);
        var readers = Enumerable.Range(0, 2).Select(r => Task.Factory.StartNew(() =>
        {
            for (var n = 0; (n < 200_000 || Volatile.Read(ref hits) == 0) && !stop.IsCancellationRequested; n++)
            {
                var i = (n + r) % tokens.Length;
                if (cache.TryGet(tokens[i], out var entry))
                {
                    Interlocked.Increment(ref hits);
                    if (!ReferenceEquals(entry.Identity, identities[i]))
                    {
                        Interlocked.Increment(ref wrong);
                    }
                }
            }
            Interlocked.Increment(ref readersDone);
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll([writer, .. readers]);
        Assert.Equal(0, wrong);
        Assert.True(hits > 0);
    }

    private static EdgeIdentity Identity() =>
        new() { Subject = "a", Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = long.MaxValue };
}
