using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Pipeline;

public sealed class FailureBudgetTests : IAsyncLifetime
{
    private sealed class World : EdgeWorld
    {
        protected override void Customize(Dictionary<string, string?> config)
        {
            config["Edge:FailureBudget:Burst"] = "5";
            config["Edge:FailureBudget:PerSecond"] = "1";
        }
    }

    private readonly World _world = new();

    public Task InitializeAsync() => _world.InitializeAsync();

    public Task DisposeAsync() => _world.DisposeAsync();

    [Fact]
    public async Task A_flood_of_bad_tokens_is_cut_off_but_cached_good_tokens_still_pass()
    {
        var good = _world.Mint();
        using (var first = await _world.Edge.GetAsync("/api/x", good))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        var statuses = new List<int>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await _world.Edge.GetAsync("/api/x", "bad.token.value" + i);
            statuses.Add((int)response.StatusCode);
        }
        Assert.Equal(5, statuses.Count(s => s == 401));
        Assert.Equal(7, statuses.Count(s => s == 429));
        using (var limited = await _world.Edge.GetAsync("/api/x", "bad.token.again"))
        {
            await ProblemAssert.Is(limited, 429, "rate_limit_exceeded");
            Assert.True(limited.Headers.Contains("Retry-After"));
        }
        using (var cached = await _world.Edge.GetAsync("/api/x", good))
        {
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        }
        // The budget refills with time.
        _world.Edge.Time.Advance(TimeSpan.FromSeconds(10));
        using var later = await _world.Edge.GetAsync("/api/x", _world.Mint(sub: "new-user"));
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }
}
