using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Authio.ControlPlane.Tests.RateLimiting;

public sealed class AuthRateBucketsTests
{
    private static AuthRateRule Rule(string text)
    {
        Assert.True(AuthRateRule.TryParse(text, out var rule, out var error), error);
        return rule!;
    }

    private static long Seconds(double s) => (long)(s * TimeSpan.TicksPerSecond);

    [Fact]
    public void A_fresh_key_gets_its_burst_then_one_request_per_interval()
    {
        var table = new AuthRateBuckets(100);
        var rule = Rule("5/1m burst 3");
        for (var i = 0; i < 3; i++)
        {
            Assert.True(table.Take(1, rule, 0).Admitted);
        }

        var refused = table.Take(1, rule, 0);
        Assert.False(refused.Admitted);
        Assert.Equal(TimeSpan.FromSeconds(12), refused.RetryAfter);
        Assert.Equal(12, refused.RetryAfterSeconds);
        Assert.True(refused.FirstRefusal);
        Assert.False(table.Take(1, rule, Seconds(1)).FirstRefusal);

        Assert.False(table.Take(1, rule, Seconds(11.9)).Admitted);
        Assert.True(table.Take(1, rule, Seconds(12)).Admitted);
        var again = table.Take(1, rule, Seconds(12));
        Assert.Equal(TimeSpan.FromSeconds(12), again.RetryAfter);
        // Other keys are not affected.
        Assert.True(table.Take(2, rule, Seconds(12)).Admitted);
    }

    [Fact]
    public void Retry_after_is_rounded_up_to_whole_seconds_and_at_least_one()
    {
        Assert.Equal(1, new RateLimitVerdict(false, TimeSpan.FromMilliseconds(1), false).RetryAfterSeconds);
        Assert.Equal(2, new RateLimitVerdict(false, TimeSpan.FromMilliseconds(1001), false).RetryAfterSeconds);
        Assert.Equal(1, new RateLimitVerdict(false, TimeSpan.Zero, false).RetryAfterSeconds);
    }

    [Fact]
    public void A_flood_of_200000_distinct_keys_never_holds_more_than_the_capacity_and_keeps_the_limited_key()
    {
        var table = new AuthRateBuckets(50_000);
        var rule = Rule("5/1m burst 10");
        // The victim is being limited when the flood starts.
        for (var i = 0; i < 10; i++)
        {
            table.Take(UInt128.MaxValue, rule, 0);
        }

        Assert.False(table.Take(UInt128.MaxValue, rule, 0).Admitted);

        for (var k = 0; k < 200_000; k++)
        {
            Assert.True(table.Take((UInt128)k, rule, k).Admitted, "a new key starts with its burst");
            Assert.True(table.Count <= table.Capacity);
        }
        Assert.True(table.Count <= 50_000);
        Assert.True(table.ActiveEvictions > 0);
        // Buckets closest to full go first; the limited key is furthest from full, so it is still limited.
        Assert.False(table.Take(UInt128.MaxValue, rule, 200_000).Admitted);
    }

    [Fact]
    public void Full_buckets_are_dropped_before_any_active_one()
    {
        var table = new AuthRateBuckets(1000);
        var rule = Rule("1/1s");
        for (var k = 0; k < 1000; k++)
        {
            table.Take((UInt128)k, rule, 0);
        }
        // A second later every bucket is full again: dropping them loses nothing, so no active bucket is evicted.
        for (var k = 1000; k < 1500; k++)
        {
            table.Take((UInt128)k, rule, Seconds(2));
        }

        Assert.Equal(0, table.ActiveEvictions);
        Assert.True(table.Count <= 1000);
    }

    [Fact]
    public async Task The_limiter_bounds_sign_in_account_buckets_at_MaxKeysPerLimit_whatever_the_number_of_emails()
    {
        var options = new ControlPlaneOptions();
        var limiter = new AuthRateLimiter(options, new FakeTimeProvider(), NullLogger<AuthRateLimiter>.Instance);
        for (var i = 0; i < 200_000; i++)
        {
            Assert.True((await limiter.CheckAccountAsync(LimitedAction.SignIn, $"user{i}@flood.test")).Admitted);
        }
        var table = limiter.Table(LimitedAction.SignIn, perAccount: true)!;
        Assert.Equal(options.RateLimits.MaxKeysPerLimit, table.Capacity);
        Assert.True(table.Count <= table.Capacity, $"{table.Count} keys held, capacity {table.Capacity}");
    }

    [Theory]
    [InlineData("192.0.2.7", "192.0.2.7")]
    [InlineData("::ffff:192.0.2.7", "192.0.2.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    public void Addresses_are_keyed_per_IPv4_host_and_per_IPv6_64(string address, string key) =>
        Assert.Equal(key, AuthRateLimiter.AddressKey(System.Net.IPAddress.Parse(address)));
}
