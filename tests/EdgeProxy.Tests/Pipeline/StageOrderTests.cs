using System.Net;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.Pipeline;

public sealed class StageOrderWorld : EdgeWorld
{
    protected override void Customize(Dictionary<string, string?> config)
    {
        config["ReverseProxy:Routes:limited:ClusterId"] = "up";
        config["ReverseProxy:Routes:limited:Match:Path"] = "/limited/{**rest}";
        config["ReverseProxy:Routes:limited:Metadata:Authio.Scopes"] = "write:things";
        config["ReverseProxy:Routes:limited:Metadata:Authio.RateLimit"] = "2/1m per subject";
        config["Edge:Limits:MaxRequestHeaderBytes"] = "4096";
        // One route per stage-boundary test below: each limit has its own buckets (quota and per-address failure bucket).
        LimitedRoute(config, "revoked", "/order-revoked/{**rest}", "1/1m per subject");
        LimitedRoute(config, "forbidden", "/order-forbidden/{**rest}", "1/2m per subject");
        LimitedRoute(config, "org", "/order-org/{org}/{**rest}", "1/3m per subject");
        config["ReverseProxy:Routes:org:Metadata:Authio.OrgRouteValue"] = "org";
        config["ReverseProxy:Routes:anonymous:ClusterId"] = "up";
        config["ReverseProxy:Routes:anonymous:Match:Path"] = "/order-anonymous/{**rest}";
        config["ReverseProxy:Routes:anonymous:Metadata:Authio.Anonymous"] = "true";
        config["ReverseProxy:Routes:anonymous:Metadata:Authio.RateLimit"] = "1/4m per ip";
    }

    private static void LimitedRoute(Dictionary<string, string?> config, string id, string path, string limit)
    {
        config[$"ReverseProxy:Routes:{id}:ClusterId"] = "up";
        config[$"ReverseProxy:Routes:{id}:Match:Path"] = path;
        config[$"ReverseProxy:Routes:{id}:Metadata:Authio.Scopes"] = "write:things";
        config[$"ReverseProxy:Routes:{id}:Metadata:Authio.RateLimit"] = limit;
    }
}

/// <summary>
/// The documented order (README's request flow, EdgeMiddleware's summary): path hygiene → strip spoofable headers →
/// authenticate → authorize → rate limit → identity headers → forward. Each test shows one boundary by what a
/// client sees: the earlier stage answers, the later one never runs.
/// </summary>
public sealed class StageOrderTests(StageOrderWorld world) : IClassFixture<StageOrderWorld>
{
    [Fact]
    public async Task Path_hygiene_runs_before_routing_and_authentication()
    {
        // An unmatched spelling with a bad credential: 400 (hygiene), not 404 (routing) nor 401 (authentication).
        var invalid = await RawHttp.GetAsync(world.Edge.Client.BaseAddress!.ToString(), "/limited/%2e%2e/nowhere", "Authorization: Bearer garbage");
        Assert.Equal(400, invalid.Status);
        Assert.Contains("\"code\":\"invalid_path\"", invalid.Body);
        using var oversized = await world.Edge.GetAsync("/nowhere", "garbage", r => r.Headers.TryAddWithoutValidation("X-Big", new string('a', 5000)));
        await ProblemAssert.Is(oversized, 431, "request_header_too_large");
    }

    [Fact]
    public async Task Routing_answers_before_authentication()
    {
        using var response = await world.Edge.GetAsync("/nowhere", "garbage");
        await ProblemAssert.Is(response, 404, "not_found");
    }

    [Fact]
    public async Task Authentication_runs_before_authorization()
    {
        // On /scoped (no rate limit: /limited's per-address failure bucket belongs to the quota test below).
        using (var missing = await world.Edge.GetAsync("/scoped/x"))
        {
            await ProblemAssert.Is(missing, 401, "unauthorized"); // not 403: nobody to authorize yet
        }
        var expired = Jwt.Mint(world.Key, world.Now.AddHours(-2), sub: "user_expired", scope: "read:things");
        using var stale = await world.Edge.GetAsync("/scoped/x", expired);
        await ProblemAssert.Is(stale, 401, "token_expired");
    }

    [Fact]
    public async Task A_request_refused_by_authorization_does_not_spend_the_callers_rate_limit()
    {
        var before = world.Upstream.Received.Count;
        // Two scope refusals for user_order (they spend this address's failure bucket, never the caller's quota) ...
        for (var i = 0; i < 2; i++)
        {
            using var refused = await world.Edge.GetAsync("/limited/x", world.Mint(sub: "user_order", scope: "read:things"));
            await ProblemAssert.Is(refused, 403, "forbidden");
        }
        // ... then the same subject with the scope still has its whole quota of 2, and the third is rate limited.
        for (var i = 0; i < 2; i++)
        {
            using var admitted = await world.Edge.GetAsync("/limited/x", world.Mint(sub: "user_order", scope: "write:things"));
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }
        using var limited = await world.Edge.GetAsync("/limited/x", world.Mint(sub: "user_order", scope: "write:things"));
        await ProblemAssert.Is(limited, 429, "rate_limit_exceeded");
        // Only the two admitted requests were forwarded: refusals at every stage stop before the upstream.
        Assert.Equal(before + 2, world.Upstream.Received.Count);
    }

    [Fact]
    public async Task Spoofed_headers_are_stripped_before_identity_headers_are_set()
    {
        using var response = await world.Edge.GetAsync("/limited/y", world.Mint(sub: "user_strip", scope: "write:things"), r =>
        {
            r.Headers.TryAddWithoutValidation("X-Authio-Subject", "admin");
            r.Headers.TryAddWithoutValidation("X-HTTP-Method-Override", "DELETE");
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("user_strip", world.Upstream.Last.Header("X-Authio-Subject"));
        Assert.Null(world.Upstream.Last.Header("X-HTTP-Method-Override"));
    }

    [Fact]
    public async Task A_revoked_forbidden_credential_over_its_quota_gets_the_authentication_answer()
    {
        // The subject spends its whole quota (1/1m) with a good token ...
        using (var admitted = await world.Edge.GetAsync("/order-revoked/x", world.Mint(sub: "user_rof", scope: "write:things")))
        {
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }
        var before = world.Upstream.Received.Count;
        // ... then sends a token that fails every later stage too: revoked (authenticate), lacking the scope (authorize),
        // over the quota (rate limit). The first stage in the documented order answers: 401, not 403 nor 429.
        var token = Jwt.Sign(world.Key, Jwt.Header(world.Key),
            Jwt.Claims(world.Now, sub: "user_rof", scope: "read:things").Replace("\"sess_1\"", "\"sess_order_revoked\""));
        var revocations = world.Edge.Services.GetRequiredService<RevocationStage>();
        revocations.Apply([new RevokedId(RevocationKind.SessionId, "sess_order_revoked", world.Now.AddHours(1).ToUnixTimeSeconds())],
            revocations.Current.Sequence + 1);
        for (var i = 0; i < 3; i++)
        {
            using var refused = await world.Edge.GetAsync("/order-revoked/x", token);
            var problem = await ProblemAssert.Is(refused, 401, "unauthorized");
            Assert.Contains("revoked", problem.GetProperty("detail").GetString());
            // A genuine credential's state only reports the address's failure bucket: never a 429, however often.
            Assert.True(refused.Headers.Contains("RateLimit"));
        }
        Assert.Equal(before, world.Upstream.Received.Count);
    }

    [Fact]
    public async Task A_valid_but_forbidden_credential_on_an_exhausted_quota_gets_403_not_429()
    {
        using (var admitted = await world.Edge.GetAsync("/order-forbidden/x", world.Mint(sub: "user_fq", scope: "write:things")))
        {
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }
        using (var limited = await world.Edge.GetAsync("/order-forbidden/x", world.Mint(sub: "user_fq", scope: "write:things")))
        {
            await ProblemAssert.Is(limited, 429, "rate_limit_exceeded"); // the quota is spent
        }
        // Authorization runs before the rate limit: the subject's exhausted quota never hides the 403.
        using var forbidden = await world.Edge.GetAsync("/order-forbidden/x", world.Mint(sub: "user_fq", scope: "read:things"));
        await ProblemAssert.Is(forbidden, 403, "forbidden");
        Assert.Null(forbidden.Headers.RetryAfter);
    }

    [Fact]
    public async Task An_expired_token_for_the_wrong_org_over_its_quota_gets_401_token_expired()
    {
        using (var admitted = await world.Edge.GetAsync("/order-org/org_1/x", world.Mint(sub: "user_eo", scope: "write:things")))
        {
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }
        using (var mismatch = await world.Edge.GetAsync("/order-org/org_2/x", world.Mint(sub: "user_eo", scope: "write:things")))
        {
            await ProblemAssert.Is(mismatch, 403, "org_mismatch"); // authorization, not the spent quota
        }
        // Expired (authentication), wrong org (authorization), over the quota (rate limit): the expiry answers.
        var expired = Jwt.Mint(world.Key, world.Now.AddHours(-2), sub: "user_eo", scope: "write:things");
        using var stale = await world.Edge.GetAsync("/order-org/org_2/x", expired);
        await ProblemAssert.Is(stale, 401, "token_expired");
    }

    [Fact]
    public async Task An_anonymous_route_skips_authentication_but_not_the_rate_limit_and_sets_no_identity()
    {
        var before = world.Upstream.Received.Count;
        using (var admitted = await world.Edge.GetAsync("/order-anonymous/x", "garbage", r => r.Headers.TryAddWithoutValidation("X-Authio-Subject", "admin")))
        {
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode); // a bad credential is not looked at
        }
        Assert.Null(world.Upstream.Last.Header("X-Authio-Subject"));
        Assert.Null(world.Upstream.Last.Header("Authorization"));
        using (var limited = await world.Edge.GetAsync("/order-anonymous/x", "garbage"))
        {
            await ProblemAssert.Is(limited, 429, "rate_limit_exceeded");
            Assert.NotNull(limited.Headers.RetryAfter);
        }
        Assert.Equal(before + 1, world.Upstream.Received.Count);
    }
}
