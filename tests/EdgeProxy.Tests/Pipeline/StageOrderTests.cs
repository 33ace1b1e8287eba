using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;

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
}
