using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Policy;

public sealed class RoutePolicyTests(EdgeWorld world) : IClassFixture<EdgeWorld>
{
    [Fact]
    public async Task Anonymous_route_needs_no_credential()
    {
        var before = world.Upstream.Received.Count;
        using var response = await world.Edge.GetAsync("/public/status");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before + 1, world.Upstream.Received.Count);
    }

    [Fact]
    public async Task Routes_without_metadata_require_authentication()
    {
        var before = world.Upstream.Received.Count;
        using var response = await world.Edge.GetAsync("/api/secure");
        await ProblemAssert.Is(response, 401, "unauthorized");
        Assert.Equal(before, world.Upstream.Received.Count);
    }

    [Fact]
    public async Task All_required_scopes_must_be_present()
    {
        var before = world.Upstream.Received.Count;
        using (var partial = await world.Edge.GetAsync("/scoped/x", world.Mint(scope: "read:things")))
        {
            await ProblemAssert.Is(partial, 403, "forbidden");
            var challenge = ProblemAssert.Challenge(partial);
            Assert.Contains("error=\"insufficient_scope\"", challenge);
            Assert.Contains("scope=\"read:things write:things\"", challenge);
        }
        Assert.Equal(before, world.Upstream.Received.Count);
        using (var full = await world.Edge.GetAsync("/scoped/x", world.Mint(scope: "write:things other read:things")))
        {
            Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        }
    }

    [Fact]
    public async Task Scp_array_counts_as_scopes()
    {
        var exp = world.Now.ToUnixTimeSeconds() + 600;
        var token = Jwt.Sign(world.Key, Jwt.Header(world.Key),
            $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"u\",\"scp\":[\"read:things\",\"write:things\"],\"exp\":{exp}}}");
        using var response = await world.Edge.GetAsync("/scoped/x", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("read:things write:things", world.Upstream.Last.Header("X-Authio-Scopes"));
    }

    [Fact]
    public async Task Scope_matching_is_exact()
    {
        using var response = await world.Edge.GetAsync("/scoped/x", world.Mint(scope: "read:things2 write:thing READ:THINGS"));
        await ProblemAssert.Is(response, 403, "forbidden");
    }

    [Fact]
    public async Task Org_route_value_must_match_the_org_claim()
    {
        using (var same = await world.Edge.GetAsync("/orgs/org_a/projects", world.Mint(org: "org_a")))
        {
            Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        }
        var before = world.Upstream.Received.Count;
        using (var other = await world.Edge.GetAsync("/orgs/org_b/projects", world.Mint(org: "org_a")))
        {
            await ProblemAssert.Is(other, 403, "org_mismatch");
        }
        using (var caseDiffers = await world.Edge.GetAsync("/orgs/ORG_A/projects", world.Mint(org: "org_a")))
        {
            await ProblemAssert.Is(caseDiffers, 403, "org_mismatch");
        }
        var exp = world.Now.ToUnixTimeSeconds() + 600;
        var noOrg = Jwt.Sign(world.Key, Jwt.Header(world.Key), $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"u\",\"exp\":{exp}}}");
        using (var missing = await world.Edge.GetAsync("/orgs/org_a/projects", noOrg))
        {
            await ProblemAssert.Is(missing, 403, "org_mismatch");
        }
        Assert.Equal(before, world.Upstream.Received.Count);
    }

    [Fact]
    public async Task Unmatched_paths_are_404_not_forwarded()
    {
        using var response = await world.Edge.GetAsync("/nowhere", world.Mint());
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
