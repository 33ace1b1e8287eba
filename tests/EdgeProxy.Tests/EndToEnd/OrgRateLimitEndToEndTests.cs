using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.EndToEnd;

/// <summary>
/// An org's rate limit set at the real control plane reaches the real edge through the change feed and applies at
/// once, and a changed limit applies without restarting anything — over the HTTP feed, and over Redis Streams.
/// </summary>
public abstract class OrgRateLimitEndToEndTests : IAsyncLifetime
{
    private readonly RecordingUpstream _upstream = new();
    private RealControlPlane _cp = null!;
    private EdgeTestHost _edge = null!;

    protected abstract Task<string?> RedisAsync();

    public async Task InitializeAsync()
    {
        var redis = await RedisAsync();
        _cp = await RealControlPlane.StartAsync(redis is null ? [] : [$"--ControlPlane:Redis={redis}"]);
        var admin = await _cp.AccessTokenAsync();
        var edgeKey = (await _cp.CreateApiKeyAsync(admin, "edge", ["edge:sync"])).GetProperty("key").GetString()!;
        await _upstream.StartAsync();
        var config = EdgeTestHost.ControlPlaneOnlyConfig(_upstream.Url, _cp.Url, edgeKey);
        if (redis is not null)
        {
            config["Edge:Redis"] = redis;
        }
        _edge = await EdgeTestHost.StartAsync(config);
        await _edge.WaitForSnapshotAsync();
    }

    public virtual async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _upstream.DisposeAsync();
        await _cp.DisposeAsync();
    }

    private async Task SetOrgLimitAsync(string token, string org, string limit)
    {
        using var response = await _cp.SendAsync(HttpMethod.Put, $"/v1/orgs/{org}/rate-limits", token, new { @default = limit });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Waits (real time, bounded) until the edge holds <paramref name="limit"/> for the org, without spending its quota.</summary>
    private async Task UntilAppliedAsync(string org, string limit)
    {
        var limits = _edge.Services.GetRequiredService<InMemoryOrgRateLimits>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (limits.TryGet(org, out var current) && current.Text == limit)
            {
                return;
            }
            await Task.Delay(20);
        }
        Assert.Fail($"the edge did not apply '{limit}' for {org} within 10 s");
    }

    [Fact]
    public async Task Org_limit_from_the_control_plane_applies_after_a_change_without_restart()
    {
        var token = await _cp.AccessTokenAsync();
        string org;
        using (var me = await _cp.SendAsync(HttpMethod.Get, "/v1/org", token))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
            org = (await me.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }
        using (var unlimited = await _edge.GetAsync("/api/x", token))
        {
            Assert.Equal(HttpStatusCode.OK, unlimited.StatusCode);
            Assert.False(unlimited.Headers.Contains("RateLimit-Policy"));
        }

        await SetOrgLimitAsync(token, org, "3/1m burst 3 per org");
        await UntilAppliedAsync(org, "3/1m burst 3 per org");
        for (var i = 0; i < 3; i++)
        {
            using var admitted = await _edge.GetAsync("/api/x", token);
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
            Assert.Equal("\"org\";q=3;w=60", admitted.Headers.GetValues("RateLimit-Policy").Single());
        }
        var upstreamCalls = _upstream.Received.Count;
        using (var refused = await _edge.GetAsync("/api/x", token))
        {
            await ProblemAssert.Is(refused, 429, "rate_limit_exceeded");
            Assert.NotNull(refused.Headers.RetryAfter?.Delta);
            Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        }
        Assert.Equal(upstreamCalls, _upstream.Received.Count);

        // A bigger limit at the control plane: admitted again, same edge process.
        await SetOrgLimitAsync(token, org, "100/1m per org");
        await UntilAppliedAsync(org, "100/1m per org");
        using var again = await _edge.GetAsync("/api/x", token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("\"org\";q=100;w=60", again.Headers.GetValues("RateLimit-Policy").Single());
    }
}

public sealed class OrgRateLimitOverHttpEndToEndTests : OrgRateLimitEndToEndTests
{
    protected override Task<string?> RedisAsync() => Task.FromResult<string?>(null);
}

public sealed class OrgRateLimitOverRedisEndToEndTests : OrgRateLimitEndToEndTests
{
    private RedisProcess? _redis;

    protected override async Task<string?> RedisAsync()
    {
        _redis = await RedisProcess.StartAsync();
        return _redis.ConnectionString;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}
