using Authio.EdgeProxy.RateLimiting;

namespace Authio.EdgeProxy.Tests.RateLimiting;

public sealed class RateLimitHeaderCacheTests
{
    [Fact]
    public void Header_values_are_exact_and_a_repeated_pair_allocates_nothing()
    {
        Assert.True(RateLimitPolicy.TryParse("orders", "100/1s burst 150", out var limit, out _));
        Assert.Equal("\"orders\";r=149;t=1", limit.Headers.Get(149, 1));
        Assert.Equal("\"orders\";r=0;t=7", limit.Headers.Get(0, 7));
        Assert.Equal("\"orders\";r=149;t=1", limit.Headers.Get(149, 1));
        // Colliding slots replace each other and stay correct.
        for (var r = 0; r < 100; r++)
        {
            Assert.Equal($"\"orders\";r={r};t=3", limit.Headers.Get(r, 3));
        }

        limit.Headers.Get(42, 2); // cached
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            limit.Headers.Get(42, 2);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
