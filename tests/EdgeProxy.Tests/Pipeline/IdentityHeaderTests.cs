using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Pipeline;

public sealed class IdentityHeaderTests(EdgeWorld world) : IClassFixture<EdgeWorld>
{
    private static void Spoof(HttpRequestMessage request)
    {
        request.Headers.TryAddWithoutValidation("X-Authio-Subject", "admin");
        request.Headers.TryAddWithoutValidation("x-authio-org", "org_admin");
        request.Headers.TryAddWithoutValidation("X-AUTHIO-SCOPES", "admin");
        request.Headers.TryAddWithoutValidation("X_Authio_Auth_Type", "api_key");
        request.Headers.TryAddWithoutValidation("x_authio-key-id", "k1");
        request.Headers.TryAddWithoutValidation("X-Authio-Anything-Else", "x");
    }

    [Fact]
    public async Task Spoofed_identity_headers_never_reach_upstream_on_authenticated_routes()
    {
        using var response = await world.Edge.GetAsync("/api/spoof", world.Mint(sub: "user_7", org: "org_7"), Spoof);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = world.Upstream.Last;
        Assert.Equal("user_7", received.Header("X-Authio-Subject"));
        Assert.Equal("org_7", received.Header("X-Authio-Org"));
        Assert.Equal("read:things", received.Header("X-Authio-Scopes"));
        Assert.Equal("jwt", received.Header("X-Authio-Auth-Type"));
        Assert.DoesNotContain(received.Headers.Keys, k => k.Replace('_', '-').StartsWith("X-Authio-Key", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(received.Headers.Keys, k => k.Replace('_', '-').Equals("X-Authio-Anything-Else", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(received.Headers.Keys, k => k.Contains('_'));
    }

    [Fact]
    public async Task Spoofed_identity_headers_are_stripped_on_anonymous_routes()
    {
        using var response = await world.Edge.GetAsync("/public/spoof", configure: Spoof);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(world.Upstream.Last.Headers.Keys, k => k.Replace('_', '-').StartsWith("X-Authio-", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Authorization_is_removed_unless_the_route_forwards_it()
    {
        var token = world.Mint();
        using (var removed = await world.Edge.GetAsync("/api/a", token))
        {
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
            Assert.Null(world.Upstream.Last.Header("Authorization"));
        }
        using (var forwarded = await world.Edge.GetAsync("/fwd/a", token))
        {
            Assert.Equal(HttpStatusCode.OK, forwarded.StatusCode);
            Assert.Equal("Bearer " + token, world.Upstream.Last.Header("Authorization"));
        }
        using (var anonymous = await world.Edge.GetAsync("/public/a", token))
        {
            Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
            Assert.Null(world.Upstream.Last.Header("Authorization"));
        }
    }

    [Fact]
    public async Task Optional_claims_absent_means_headers_absent()
    {
        var exp = world.Now.ToUnixTimeSeconds() + 600;
        var token = Jwt.Sign(world.Key, Jwt.Header(world.Key), $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"svc\",\"exp\":{exp}}}");
        using var response = await world.Edge.GetAsync("/api/minimal", token, Spoof);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = world.Upstream.Last;
        Assert.Equal("svc", received.Header("X-Authio-Subject"));
        Assert.Null(received.Header("X-Authio-Org"));
        Assert.Null(received.Header("X-Authio-Session"));
        Assert.Null(received.Header("X-Authio-Token-Id"));
        Assert.Equal("", received.Header("X-Authio-Scopes"));
    }
}
