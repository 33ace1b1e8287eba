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
public abstract class OrgRateLimitEndToEndTests(bool withRedis) : ControlPlaneAndEdge(withRedis)
{
    private async Task SetOrgLimitAsync(string token, string org, string limit)
    {
        using var response = await Cp.SendAsync(HttpMethod.Put, $"/v1/orgs/{org}/rate-limits", token, new { @default = limit });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Waits (real time, bounded) until the edge holds <paramref name="limit"/> for the org, without spending its quota.</summary>
    private async Task UntilAppliedAsync(string org, string limit)
    {
        var limits = Edge.Services.GetRequiredService<InMemoryOrgRateLimits>();
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
        var token = await Cp.AccessTokenAsync();
        string org;
        using (var me = await Cp.SendAsync(HttpMethod.Get, "/v1/org", token))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
            org = (await me.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }
        using (var unlimited = await Edge.GetAsync("/api/x", token))
        {
            Assert.Equal(HttpStatusCode.OK, unlimited.StatusCode);
            Assert.False(unlimited.Headers.Contains("RateLimit-Policy"));
        }

        await SetOrgLimitAsync(token, org, "3/1m burst 3 per org");
        await UntilAppliedAsync(org, "3/1m burst 3 per org");
        for (var i = 0; i < 3; i++)
        {
            using var admitted = await Edge.GetAsync("/api/x", token);
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
            Assert.Equal("\"org\";q=3;w=60", admitted.Headers.GetValues("RateLimit-Policy").Single());
        }
        var upstreamCalls = Upstream.Received.Count;
        using (var refused = await Edge.GetAsync("/api/x", token))
        {
            await ProblemAssert.Is(refused, 429, "rate_limit_exceeded");
            Assert.NotNull(refused.Headers.RetryAfter?.Delta);
            Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        }
        Assert.Equal(upstreamCalls, Upstream.Received.Count);

        // A bigger limit at the control plane: admitted again, same edge process.
        await SetOrgLimitAsync(token, org, "100/1m per org");
        await UntilAppliedAsync(org, "100/1m per org");
        using var again = await Edge.GetAsync("/api/x", token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("\"org\";q=100;w=60", again.Headers.GetValues("RateLimit-Policy").Single());
    }
}

public sealed class OrgRateLimitOverHttpEndToEndTests() : OrgRateLimitEndToEndTests(withRedis: false);

public sealed class OrgRateLimitOverRedisEndToEndTests() : OrgRateLimitEndToEndTests(withRedis: true);
