using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.ApiKeys;

namespace Authio.EdgeProxy.Tests.ApiKeys;

/// <summary>API keys through real HTTP: an edge in front of a recording upstream, asking a fake control plane.</summary>
public sealed class ApiKeyEdgeTests : IAsyncLifetime
{
    private sealed class World(FakeControlPlane controlPlane) : EdgeWorld
    {
        protected override void Customize(Dictionary<string, string?> config)
        {
            config["Edge:ControlPlane:Url"] = controlPlane.Url;
            config["Edge:ControlPlane:ApiKey"] = controlPlane.EdgeKey;
            config["Edge:ApiKeys:CacheDuration"] = "00:00:00.400";
            config["Edge:ApiKeys:NegativeCacheDuration"] = "00:01:00";
            config["Edge:ApiKeys:UsageReportInterval"] = "00:00:01";
        }
    }

    private readonly FakeControlPlane _controlPlane = new();
    private World _world = null!;

    public async Task InitializeAsync()
    {
        await _controlPlane.StartAsync();
        _world = new World(_controlPlane);
        await _world.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _world.DisposeAsync();
        await _controlPlane.DisposeAsync();
    }

    private EdgeTestHost Edge => _world.Edge;

    [Fact]
    public async Task A_valid_key_reaches_upstream_as_an_api_key_identity_and_never_as_a_secret()
    {
        var key = _controlPlane.Issue("key_1", "org_1", ["read:things", "write:things"]);
        foreach (var path in new[] { "/api/x", "/fwd/x", "/scoped/x", "/orgs/org_1/x" })
        {
            using var response = await Edge.GetAsync(path, key);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var received = _world.Upstream.Last;
            Assert.Equal("api_key", received.Header("X-Authio-Auth-Type"));
            Assert.Equal("key_1", received.Header("X-Authio-Key-Id"));
            Assert.Equal("org_1", received.Header("X-Authio-Org"));
            Assert.Equal("read:things write:things", received.Header("X-Authio-Scopes"));
            Assert.Null(received.Header("X-Authio-Subject"));
            Assert.Null(received.Header("Authorization")); // even on the ForwardAuthorization route
            Assert.DoesNotContain(received.Headers.Values, v => v.Contains(key[8..]));
        }
        Assert.Equal(1, _controlPlane.Lookups); // every later request was served from the cache
    }

    [Fact]
    public async Task Scope_and_org_rules_apply_to_api_keys()
    {
        var key = _controlPlane.Issue("key_2", "org_1", ["read:things"]);
        using (var scope = await Edge.GetAsync("/scoped/x", key))
        {
            await ProblemAssert.Is(scope, 403, "forbidden");
        }
        using (var org = await Edge.GetAsync("/orgs/org_2/x", key))
        {
            await ProblemAssert.Is(org, 403, "org_mismatch");
        }
    }

    [Fact]
    public async Task Mistyped_and_random_keys_never_reach_the_control_plane()
    {
        var key = _controlPlane.Issue("key_3", "org_1", ["read:things"]);
        var typo = key[..20] + (key[20] == 'a' ? 'b' : 'a') + key[21..];
        var random = "sk_live_" + new string('x', 46);
        foreach (var bad in new[] { typo, random, "sk_live_short", "sk_" })
        {
            using var response = await Edge.GetAsync("/api/x", bad);
            var problem = await ProblemAssert.Is(response, 401, "unauthorized");
            Assert.DoesNotContain(bad, problem.ToString());
        }
        Assert.Equal(0, _controlPlane.Lookups);
    }

    [Fact]
    public async Task Unknown_well_formed_keys_are_looked_up_once_per_digest()
    {
        var unknown = ApiKeyFormat.Generate(ApiKeyEnvironment.Live);
        for (var i = 0; i < 5; i++)
        {
            using var response = await Edge.GetAsync("/api/x", unknown);
            await ProblemAssert.Is(response, 401, "unauthorized");
        }
        Assert.Equal(1, _controlPlane.Lookups);
    }

    [Fact]
    public async Task A_test_key_is_refused_by_a_live_edge_without_a_lookup()
    {
        var key = _controlPlane.Issue("key_t", "org_1", ["read:things"], ApiKeyEnvironment.Test);
        using var response = await Edge.GetAsync("/api/x", key);
        var problem = await ProblemAssert.Is(response, 401, "unauthorized");
        Assert.Contains("test key", problem.GetProperty("detail").GetString());
        Assert.Equal(0, _controlPlane.Lookups);
    }

    [Fact]
    public async Task Expired_keys_are_refused()
    {
        var key = _controlPlane.Issue("key_e", "org_1", ["read:things"], expiresAt: _world.Now.AddMinutes(1));
        using (var before = await Edge.GetAsync("/api/x", key))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }
        Edge.Time.Advance(TimeSpan.FromMinutes(2));
        using var after = await Edge.GetAsync("/api/x", key);
        var problem = await ProblemAssert.Is(after, 401, "unauthorized");
        Assert.Contains("expired", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_revoked_key_is_refused_within_the_cache_duration()
    {
        var key = _controlPlane.Issue("key_r", "org_1", ["read:things"]);
        using (var before = await Edge.GetAsync("/api/x", key))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }
        _controlPlane.Revoke("key_r");
        var revokedAt = DateTime.UtcNow;
        HttpStatusCode status;
        do
        {
            // The hot cache runs on the edge's (fake) clock; move it along with real time.
            Edge.Time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(50);
            using var response = await Edge.GetAsync("/api/x", key);
            status = response.StatusCode;
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow - revokedAt < TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task Control_plane_down_known_keys_keep_working_unknown_keys_are_refused_never_5xx()
    {
        var key = _controlPlane.Issue("key_k", "org_1", ["read:things"]);
        using (var warm = await Edge.GetAsync("/api/x", key))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }
        _controlPlane.Down = true;
        var unknown = _controlPlane.Issue("key_u", "org_1", ["read:things"]); // issued, but the edge never saw it
        for (var i = 0; i < 10; i++)
        {
            Edge.Time.Advance(TimeSpan.FromMilliseconds(300));
            await Task.Delay(100);
            using var known = await Edge.GetAsync("/api/x", key);
            Assert.Equal(HttpStatusCode.OK, known.StatusCode);
            using var fresh = await Edge.GetAsync("/api/x", unknown);
            await ProblemAssert.Unverifiable(fresh);
        }
    }

    [Fact]
    public async Task Usage_is_aggregated_and_reported()
    {
        var key = _controlPlane.Issue("key_usage", "org_1", ["read:things"]);
        for (var i = 0; i < 7; i++)
        {
            (await Edge.GetAsync("/api/x", key)).Dispose();
        }
        for (var i = 0; i < 100 && _controlPlane.Reports.Sum(r => r.Keys.Where(k => k.Id == "key_usage").Sum(k => k.Count)) < 7; i++)
        {
            Edge.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50);
        }
        Assert.Equal(7, _controlPlane.Reports.Sum(r => r.Keys.Where(k => k.Id == "key_usage").Sum(k => k.Count)));
    }
}
