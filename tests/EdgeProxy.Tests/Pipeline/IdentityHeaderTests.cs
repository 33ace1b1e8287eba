using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

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
    [Fact]
    public async Task Tokens_sharing_org_scopes_and_key_forward_their_own_subject_session_and_token_id_on_every_hit()
    {
        var exp = world.Now.ToUnixTimeSeconds() + 600;
        string Token(string sub, string sid, string jti) => Jwt.Sign(world.Key, Jwt.Header(world.Key),
            $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"{sub}\",\"org\":\"org_share\",\"sid\":\"{sid}\",\"jti\":\"{jti}\",\"scope\":\"read:things\",\"exp\":{exp}}}");
        // The second one's values need encoding for a header (non-ASCII): its header forms differ from its values.
        var a = Token("user_share_a", "sess_a", "jti_a");
        var b = Token("usér_b", "séss_b", "jti_b_é");
        for (var round = 0; round < 2; round++) // the first request validates and caches, the second is a cache hit
        {
            using (var response = await world.Edge.GetAsync("/api/share", a))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var received = world.Upstream.Last;
                Assert.Equal("user_share_a", received.Header("X-Authio-Subject"));
                Assert.Equal("sess_a", received.Header("X-Authio-Session"));
                Assert.Equal("jti_a", received.Header("X-Authio-Token-Id"));
                Assert.Equal("org_share", received.Header("X-Authio-Org"));
            }
            using (var response = await world.Edge.GetAsync("/api/share", b))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var received = world.Upstream.Last;
                Assert.Equal("us%C3%A9r_b", received.Header("X-Authio-Subject"));
                Assert.Equal("s%C3%A9ss_b", received.Header("X-Authio-Session"));
                Assert.Equal("jti_b_%C3%A9", received.Header("X-Authio-Token-Id"));
                Assert.Equal("org_share", received.Header("X-Authio-Org"));
            }
        }
        // Both cached identities hold one shared instance of what they have in common.
        var cache = world.Edge.Services.GetRequiredService<Authio.EdgeProxy.Authentication.TokenCache>();
        Assert.True(cache.TryGet(System.Text.Encoding.ASCII.GetBytes(a), out var first));
        Assert.True(cache.TryGet(System.Text.Encoding.ASCII.GetBytes(b), out var second));
        Assert.Same(first.Identity.Traits, second.Identity.Traits);
        Assert.Equal("usér_b", second.Identity.Subject);
    }
}
