using Authio.EdgeProxy.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Authio.EdgeProxy.Tests.RateLimiting;

/// <summary>The limiter's cached clock follows the injected TimeProvider, including fake time.</summary>
public sealed class CoarseClockTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public void Reads_follow_fake_time_tick_by_tick_and_after_long_jumps()
    {
        using var clock = new CoarseClock(_time);
        Assert.Equal(_time.GetTimestamp(), clock.Now);
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(CoarseClock.Resolution);
            Assert.Equal(_time.GetTimestamp(), clock.Now);
        }
        // A jump far past the last read: the timer stops after one idle tick and the next read is exact.
        _time.Advance(TimeSpan.FromDays(30));
        Assert.Equal(_time.GetTimestamp(), clock.Now);
        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.Equal(_time.GetTimestamp(), clock.Now);
    }

    [Fact]
    public void A_cached_read_is_never_ahead_of_the_provider_and_exact_reads_move_it_forward()
    {
        using var clock = new CoarseClock(_time);
        _ = clock.Now;
        _time.Advance(TimeSpan.FromTicks(CoarseClock.Resolution.Ticks / 2));
        var cached = clock.Now;
        Assert.True(cached <= _time.GetTimestamp());
        Assert.Equal(_time.GetTimestamp(), clock.Exact());
        Assert.Equal(_time.GetTimestamp(), clock.Now);
    }
}
