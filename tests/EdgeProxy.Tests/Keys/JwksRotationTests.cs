using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Keys;

/// <summary>Key rotation and JWKS availability, each test with its own edge and JWKS endpoint.</summary>
public sealed class JwksRotationTests : IAsyncLifetime
{
    private readonly EdgeWorld _world = new();

    public Task InitializeAsync() => _world.InitializeAsync();

    public Task DisposeAsync() => _world.DisposeAsync();

    private EdgeTestHost Edge => _world.Edge;

    private async Task<HttpStatusCode> Status(string token)
    {
        using var response = await Edge.GetAsync("/api/x", token);
        return response.StatusCode;
    }

    /// <summary>Moves the fake clock a minute at a time (the refresher may not have armed its timer yet) until the condition holds.</summary>
    private async Task AdvanceUntil(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await condition())
            {
                return;
            }
            Edge.Time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(20);
        }
        Assert.Fail("Timed out waiting for: " + what);
    }

    [Fact]
    public async Task A_new_kid_is_picked_up_on_first_use()
    {
        var next = TestKey.Es256("key-2");
        _world.Jwks.Publish(_world.Key, next);
        var fetchesBefore = _world.Jwks.Fetches;
        Assert.Equal(HttpStatusCode.OK, await Status(Jwt.Mint(next, _world.Now)));
        Assert.Equal(fetchesBefore + 1, _world.Jwks.Fetches);
    }

    [Fact]
    public async Task Unknown_kid_refreshes_are_throttled()
    {
        var fetchesBefore = _world.Jwks.Fetches;
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await Status(Jwt.Mint(TestKey.Es256("forged-" + i), _world.Now)));
        }
        Assert.Equal(fetchesBefore + 1, _world.Jwks.Fetches);
        // After the throttle window the next unknown kid may fetch again.
        Edge.Time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(Jwt.Mint(TestKey.Es256("forged-late"), _world.Now)));
        Assert.Equal(fetchesBefore + 2, _world.Jwks.Fetches);
    }

    [Fact]
    public async Task A_removed_kid_is_rejected_even_when_its_token_is_cached()
    {
        var next = TestKey.Es256("key-2");
        var token = _world.Mint();
        Assert.Equal(HttpStatusCode.OK, await Status(token));
        Assert.Equal(HttpStatusCode.OK, await Status(token)); // now served from the cache

        _world.Jwks.Publish(next);
        await AdvanceUntil(async () => await Status(token) == HttpStatusCode.Unauthorized, "periodic refresh to drop the removed kid");
        Assert.Equal(HttpStatusCode.OK, await Status(Jwt.Mint(next, _world.Now)));
    }

    [Fact]
    public async Task A_suspicious_key_set_is_refused_and_the_previous_one_kept()
    {
        var token = _world.Mint();
        var bad = TestKey.Es256("key-1"); // duplicate kid
        _world.Jwks.PublishRaw(TestKey.Jwks(_world.Key, bad));
        var fetches = _world.Jwks.Fetches;
        await AdvanceUntil(() => Task.FromResult(_world.Jwks.Fetches > fetches), "refresh");
        await Task.Delay(200); // let the refused set be processed
        Assert.Equal(HttpStatusCode.OK, await Status(_world.Mint(sub: "still-trusted")));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(Jwt.Mint(bad, _world.Now, sub: "from-bad-set")));
        Assert.Equal(HttpStatusCode.OK, await Status(token));
    }
}

/// <summary>The JWKS endpoint goes down: the last good set keeps working up to MaxKeySetAge (shortened here), then is dropped.</summary>
public sealed class JwksOutageTests : IAsyncLifetime
{
    private sealed class World : EdgeWorld
    {
        protected override void Customize(Dictionary<string, string?> config)
        {
            config["Edge:Issuers:0:RefreshInterval"] = "00:01:00";
            config["Edge:Issuers:0:MaxKeySetAge"] = "00:05:00";
        }
    }

    private readonly World _world = new();

    public Task InitializeAsync() => _world.InitializeAsync();

    public Task DisposeAsync() => _world.DisposeAsync();

    private async Task<HttpStatusCode> Status(string token)
    {
        using var response = await _world.Edge.GetAsync("/api/x", token);
        return response.StatusCode;
    }

    /// <summary>Moves the fake clock in small steps until <paramref name="condition"/> holds, giving the refresher time to run.</summary>
    private async Task AdvanceUntil(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 400; i++)
        {
            if (await condition())
            {
                return;
            }
            _world.Edge.Time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(10);
        }
        Assert.Fail("Timed out waiting for: " + what);
    }

    [Fact]
    public async Task Stale_keys_keep_working_while_the_endpoint_is_down_until_max_age()
    {
        var token = _world.Mint();
        var loadedAt = _world.Now;
        _world.Jwks.Down = true;
        var fetches = _world.Jwks.Fetches;
        await AdvanceUntil(() => Task.FromResult(_world.Jwks.Fetches > fetches + 1), "failed refreshes");
        Assert.True(_world.Now - loadedAt < TimeSpan.FromMinutes(5));
        Assert.Equal(HttpStatusCode.OK, await Status(token));
        Assert.Equal(HttpStatusCode.OK, await Status(_world.Mint(sub: "fresh-token")));

        // Past max age the last good set is dropped and the edge stops trusting the issuer.
        await AdvanceUntil(async () => await Status(_world.Mint(sub: "after-max-age-" + _world.Now.Ticks)) == HttpStatusCode.Unauthorized, "max age");
        Assert.True(_world.Now - loadedAt > TimeSpan.FromMinutes(5));
        using (var ready = await _world.Edge.Admin.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        // The endpoint comes back: keys return.
        _world.Jwks.Down = false;
        await AdvanceUntil(async () => await Status(_world.Mint(sub: "recovered-" + _world.Now.Ticks)) == HttpStatusCode.OK, "recovery");
    }
}
