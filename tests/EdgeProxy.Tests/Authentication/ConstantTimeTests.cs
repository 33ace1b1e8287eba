using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Tests.Authentication;

public sealed class ConstantTimeTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(560)]
    [InlineData(8192)]
    public void Equal_only_when_every_byte_matches(int length)
    {
        var left = new byte[length];
        Random.Shared.NextBytes(left);
        var right = (byte[])left.Clone();
        Assert.True(ConstantTime.Equals(left, right));
        for (var i = 0; i < length; i++)
        {
            right[i] ^= 0x01;
            Assert.False(ConstantTime.Equals(left, right), $"difference at {i} of {length} missed");
            right[i] ^= 0x01;
        }
        Assert.False(ConstantTime.Equals(left, right.AsSpan(0, Math.Max(0, length - 1))) && length > 0);
    }

    [Fact]
    public void A_cached_token_never_authenticates_a_different_token_of_the_same_length()
    {
        var cache = new TokenCache(16);
        var identity = new EdgeIdentity { Subject = "a", Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = long.MaxValue };
        var token = "aaaa.bbbb.cccc"u8.ToArray();
        cache.Add(token, identity);
        Assert.True(cache.TryGet(token, out _));
        Assert.False(cache.TryGet("aaaa.bbbb.cccd"u8, out _));
        Assert.False(cache.TryGet("aaaa.bbbb.ccc"u8, out _));
    }

    [Fact]
    public void The_token_cache_stays_bounded_by_evicting_old_entries()
    {
        var cache = new TokenCache(1000);
        var identity = new EdgeIdentity { Subject = "a", Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = long.MaxValue };
        for (var i = 0; i < 200_000; i++)
        {
            cache.Add(System.Text.Encoding.ASCII.GetBytes("token-" + i), identity);
        }
        Assert.Equal(1000, cache.Capacity); // exactly the configured size (no power-of-two rounding)
        var stillCached = Enumerable.Range(0, 200_000).Count(i => cache.TryGet(System.Text.Encoding.ASCII.GetBytes("token-" + i), out _));
        Assert.InRange(stillCached, 1, 1000);
        Assert.True(cache.TryGet("token-199999"u8, out _));
    }
}
