using Authio.ControlPlane.ApiKeys;

namespace Authio.ControlPlane.Tests;

/// <summary>The "audit a revoked key at most once a minute" memory: correct within the window, bounded beyond it.</summary>
public sealed class AuditThrottleTests
{
    private const long Window = 60_000;

    [Fact]
    public void A_key_is_claimed_once_per_window()
    {
        var throttle = new AuditThrottle(capacity: 8);
        Assert.True(throttle.TryClaim("ak_1", now: 0, Window));
        Assert.False(throttle.TryClaim("ak_1", now: Window - 1, Window));
        Assert.True(throttle.TryClaim("ak_1", now: Window, Window));
    }

    [Fact]
    public void Distinct_revoked_keys_never_grow_the_memory_past_its_capacity()
    {
        var throttle = new AuditThrottle(capacity: 100);
        // A flood of distinct keys, each presented once, at one per millisecond (all within one window).
        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(throttle.TryClaim("ak_" + i, now: i, Window));
            Assert.True(throttle.Count <= 100);
        }
    }

    [Fact]
    public void When_full_the_keys_past_their_window_go_first_and_recent_ones_stay_throttled()
    {
        var throttle = new AuditThrottle(capacity: 4);
        throttle.TryClaim("old1", now: 0, Window);
        throttle.TryClaim("old2", now: 0, Window);
        throttle.TryClaim("recent1", now: 70_000, Window);
        throttle.TryClaim("recent2", now: 70_000, Window);

        Assert.True(throttle.TryClaim("new", now: 70_001, Window));
        Assert.Equal(3, throttle.Count);
        // The recent keys were kept, so presenting them again is still not audited again.
        Assert.False(throttle.TryClaim("recent1", now: 70_002, Window));
        Assert.False(throttle.TryClaim("recent2", now: 70_002, Window));
    }
}
