using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.ApiKeys;

/// <summary>Two edges sharing a Redis L2: a key looked up by one is known to the other without asking the control plane.</summary>
public sealed class ApiKeyRedisTests : IAsyncLifetime
{
    private sealed class World(FakeControlPlane controlPlane, string redis) : EdgeWorld
    {
        protected override void Customize(Dictionary<string, string?> config)
        {
            config["Edge:ControlPlane:Url"] = controlPlane.Url;
            config["Edge:ControlPlane:ApiKey"] = controlPlane.EdgeKey;
            config["Edge:ApiKeys:CacheDuration"] = "00:00:06"; // fresh for 3 s at each level
            config["Edge:Redis"] = redis;
            config["Edge:ApiKeys:CacheSigningKey"] = SharedKey; // both edges: the L2 is used only with its MAC key
        }
    }

    private static readonly string SharedKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private readonly FakeControlPlane _controlPlane = new();
    private RedisProcess _redis = null!;
    private World _first = null!;
    private World _second = null!;

    public async Task InitializeAsync()
    {
        await _controlPlane.StartAsync();
        _redis = await RedisProcess.StartAsync();
        _first = new World(_controlPlane, _redis.ConnectionString);
        _second = new World(_controlPlane, _redis.ConnectionString);
        await _first.InitializeAsync();
        await _second.InitializeAsync();
        // Each edge connects to Redis in the background and skips the L2 until it answers: wait for both.
        await UntilRedisAsync(_first);
        await UntilRedisAsync(_second);
    }

    private static async Task UntilRedisAsync(World world)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using var ready = await world.Edge.Admin.GetAsync("/readyz");
            var body = await ready.Content.ReadAsStringAsync();
            if (System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("redis").GetProperty("available").GetBoolean())
            {
                return;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the edge never reached Redis: {body}");
            await Task.Delay(25);
        }
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
        await _redis.DisposeAsync();
        await _controlPlane.DisposeAsync();
    }

    [RedisFact]
    public async Task Edges_share_the_l2_and_survive_a_control_plane_outage()
    {
        var key = _controlPlane.Issue("key_shared", "org_1", ["read:things"]);
        using (var first = await _first.Edge.GetAsync("/api/x", key))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        Assert.Equal(1, _controlPlane.Lookups);
        var sinceFirst = System.Diagnostics.Stopwatch.StartNew();
        using (var second = await _second.Edge.GetAsync("/api/x", key))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }
        // Served from the shared Redis L2 — while the L2 record is fresh (3 s): a machine stalled longer than that makes the
        // second edge's look-up legitimate, and the assertion would be about the machine, not the L2.
        if (sinceFirst.Elapsed < TimeSpan.FromSeconds(2.5))
        {
            Assert.Equal(1, _controlPlane.Lookups);
        }

        _controlPlane.Down = true;
        var unknown = _controlPlane.Issue("key_never_seen", "org_1", ["read:things"]);
        for (var i = 0; i < 2; i++)
        {
            await Task.Delay(3100); // past the fresh half of the cache duration: every check goes back to FusionCache
            foreach (var edge in new[] { _first.Edge, _second.Edge })
            {
                using var known = await edge.GetAsync("/api/x", key);
                Assert.Equal(HttpStatusCode.OK, known.StatusCode);
                using var fresh = await edge.GetAsync("/api/x", unknown);
                await ProblemAssert.Unverifiable(fresh);
            }
        }
    }

    [RedisFact]
    public async Task Without_the_cache_signing_key_the_l2_is_not_used()
    {
        await using var unkeyed = new UnkeyedWorld(_controlPlane, _redis.ConnectionString);
        await unkeyed.InitializeAsync();
        var key = _controlPlane.Issue("key_unkeyed", "org_1", ["read:things"]);
        using (var first = await _first.Edge.GetAsync("/api/x", key))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        var lookups = _controlPlane.Lookups;
        using (var other = await unkeyed.Edge.GetAsync("/api/x", key))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }
        Assert.Equal(lookups + 1, _controlPlane.Lookups); // asked the control plane, not the shared Redis
    }

    private sealed class UnkeyedWorld(FakeControlPlane controlPlane, string redis) : EdgeWorld, IAsyncDisposable
    {
        protected override void Customize(Dictionary<string, string?> config)
        {
            config["Edge:ControlPlane:Url"] = controlPlane.Url;
            config["Edge:ControlPlane:ApiKey"] = controlPlane.EdgeKey;
            config["Edge:Redis"] = redis;
        }

        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }

    [RedisFact]
    public async Task Redis_down_means_lookups_go_to_the_control_plane_and_nothing_fails()
    {
        var key = _controlPlane.Issue("key_r", "org_1", ["read:things"]);
        _redis.Kill();
        for (var i = 0; i < 3; i++)
        {
            using var response = await _first.Edge.GetAsync("/api/x", key);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Task.Delay(250);
        }
        await _redis.RestartAsync();
    }
}
