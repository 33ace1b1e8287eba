using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Tests.ApiKeys;

public sealed class ApiKeyHotCacheTests
{
    private static readonly Random Seeded = new(11);

    private static byte[] NewDigest()
    {
        var digest = new byte[32];
        lock (Seeded)
        {
            Seeded.NextBytes(digest);
        }
        return digest;
    }

    private static ApiKeyHotCache.Entry EntryFor(byte[] digest, string keyId) =>
        new(digest, new EdgeIdentity { Subject = null, KeyId = keyId, Scopes = [], ScopesHeader = "", AuthType = "api_key", ExpiresAt = long.MaxValue },
            null, long.MaxValue, long.MaxValue, new ApiKeyUsageCounter(keyId));

    /// <summary>Sets <paramref name="count"/> new keys (<c>key_0</c>, <c>key_1</c>, …) and returns their digests in that order.</summary>
    private static byte[][] Fill(ApiKeyHotCache cache, int count)
    {
        var digests = Enumerable.Range(0, count).Select(_ => NewDigest()).ToArray();
        for (var i = 0; i < digests.Length; i++)
        {
            cache.Set(EntryFor(digests[i], $"key_{i}"));
        }
        return digests;
    }

    [Fact]
    public void Starts_small_and_grows_to_hold_every_key_it_is_given_below_its_capacity()
    {
        // A set that would take a third key doubles the array: far below the capacity nothing is evicted.
        var cache = new ApiKeyHotCache(1 << 22);
        Assert.Equal(ApiKeyHotCache.InitialSlots, cache.Slots);
        var digests = Fill(cache, 2_000);
        Assert.Equal(2_000, cache.Count);
        Assert.InRange(cache.Slots, 4_096, 1 << 22);
        for (var i = 0; i < digests.Length; i++)
        {
            Assert.True(cache.TryGetAny(digests[i], out var entry), $"key {i} was dropped while the cache grew");
            Assert.Equal($"key_{i}", entry.Identity!.KeyId);
            Assert.Equal(digests[i], entry.Digest);
        }
    }

    [Fact]
    public void A_hundred_keys_take_a_few_pages_not_the_whole_capacity()
    {
        var cache = new ApiKeyHotCache(65_536);
        var digests = Fill(cache, 100);
        Assert.Equal(100, cache.Count);
        Assert.All(digests, d => Assert.True(cache.TryGetAny(d, out _)));
        Assert.InRange(cache.Slots, ApiKeyHotCache.InitialSlots, 8_192);
    }

    [Fact]
    public void At_its_capacity_it_stops_growing_and_a_new_key_evicts()
    {
        var cache = new ApiKeyHotCache(64);
        var digests = Fill(cache, 1_000);
        Assert.Equal(64, cache.Slots);
        Assert.InRange(cache.Count, 1, 64);
        Assert.True(cache.TryGetAny(digests[^1], out _), "the newest key must be held");
        Assert.Equal(cache.Count, digests.Count(d => cache.TryGetAny(d, out _)));
    }

    [Fact]
    public void A_digest_that_differs_in_any_byte_is_not_found()
    {
        var cache = new ApiKeyHotCache(1_024);
        var digest = NewDigest();
        cache.Set(EntryFor(digest, "key_a"));
        for (var i = 0; i < 32; i++)
        {
            var other = (byte[])digest.Clone();
            other[i] ^= 0x01;
            Assert.False(cache.TryGetAny(other, out _), $"byte {i} was not compared");
        }
        Assert.True(cache.TryGetAny(digest, out _));
    }

    [Fact]
    public void A_pushed_change_drops_every_secret_of_its_key_even_after_the_cache_grew()
    {
        var cache = new ApiKeyHotCache(1 << 22);
        var first = NewDigest();
        var second = NewDigest();
        cache.Set(EntryFor(first, "key_rotated"));
        var others = Enumerable.Range(0, 1_000).Select(_ => NewDigest()).ToArray();
        for (var i = 0; i < others.Length; i++)
        {
            cache.Set(EntryFor(others[i], $"key_{i}"));
            if (i == 500)
            {
                cache.Set(EntryFor(second, "key_rotated"));
            }
        }
        Assert.True(cache.Slots > ApiKeyHotCache.InitialSlots);

        var dropped = cache.Forget("key_rotated");

        Assert.Equal(2, dropped.Count);
        Assert.Contains(dropped, d => d.AsSpan().SequenceEqual(first));
        Assert.Contains(dropped, d => d.AsSpan().SequenceEqual(second));
        Assert.False(cache.TryGetAny(first, out _));
        Assert.False(cache.TryGetAny(second, out _));
        Assert.Equal(1_000, cache.Count);
        Assert.True(cache.TryGetAny(others[0], out _));
    }

    [Fact]
    public async Task Readers_never_miss_a_held_key_while_the_cache_grows()
    {
        var cache = new ApiKeyHotCache(1 << 22);
        var held = Enumerable.Range(0, 100).Select(_ => NewDigest()).ToArray();
        foreach (var digest in held)
        {
            cache.Set(EntryFor(digest, "key_held"));
        }
        var misses = 0;
        var writing = true;
        var readers = Enumerable.Range(0, 2).Select(reader => Task.Run(() =>
        {
            while (Volatile.Read(ref writing))
            {
                foreach (var digest in held)
                {
                    if (!cache.TryGetAny(digest, out _))
                    {
                        Interlocked.Increment(ref misses);
                    }
                }
            }
        })).ToArray();
        for (var i = 0; i < 2_000; i++)
        {
            cache.Set(EntryFor(NewDigest(), $"key_{i}"));
        }
        Volatile.Write(ref writing, false);
        await Task.WhenAll(readers);
        Assert.Equal(0, misses);
        Assert.True(cache.Slots >= 8_192, $"the cache should have grown, has {cache.Slots} slots");
    }

    [Fact]
    public void A_memory_trim_keeps_at_most_the_fraction_asked_for()
    {
        var cache = new ApiKeyHotCache(4_096);
        Fill(cache, 1_000);
        var slots = cache.Slots;
        var held = cache.Count;
        var dropped = cache.Trim(0.1);
        Assert.True(dropped > 0);
        Assert.Equal(held - dropped, cache.Count);
        Assert.InRange(cache.Count, 0, (int)(0.1 * slots));
    }
}
