using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.EdgeProxy.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.Pipeline;

/// <summary>
/// Many honest users behind one address (an office, carrier-grade NAT): genuine tokens in a refusing state (expired,
/// not yet valid, wrong audience) are answered as such, never spend the address's failure budget or route failure
/// bucket, and their replays cost no signature check; forged tokens still do.
/// </summary>
public sealed class AbuseGuardTests : IAsyncLifetime
{
    private sealed class World : EdgeWorld
    {
        protected override void Customize(Dictionary<string, string?> config)
        {
            // A tight budget: if genuine failures counted, the 6th would already be a 429.
            config["Edge:FailureBudget:Burst"] = "5";
            config["Edge:FailureBudget:PerSecond"] = "1";
            config["ReverseProxy:Routes:limited:ClusterId"] = "up";
            config["ReverseProxy:Routes:limited:Match:Path"] = "/limited/{**rest}";
            config["ReverseProxy:Routes:limited:Metadata:Authio.RateLimit"] = "3/1m";
        }
    }

    private readonly World _world = new();

    public Task InitializeAsync() => _world.InitializeAsync();

    public Task DisposeAsync() => _world.DisposeAsync();

    private long SignatureChecks => _world.Edge.Services.GetRequiredService<JwtValidator>().SignatureChecks;

    private string Expired(int i) => Jwt.Sign(_world.Key, Jwt.Header(_world.Key),
        Jwt.Claims(_world.Now.AddHours(-2), sub: "user_" + i, exp: _world.Now.AddHours(-1).ToUnixTimeSeconds()));

    private static string Forged(string token) => token[..(token.LastIndexOf('.') + 1)] + Jwt.B64(new byte[64]);

    [Fact]
    public async Task Hundreds_of_expired_tokens_from_one_address_are_each_401_and_a_valid_token_right_after_is_accepted()
    {
        for (var i = 0; i < 300; i++)
        {
            using var response = await _world.Edge.GetAsync(i % 2 == 0 ? "/api/x" : "/limited/x", Expired(i));
            await ProblemAssert.Is(response, 401, "token_expired"); // never 429: not the budget, not the route's failure bucket
        }
        using (var valid = await _world.Edge.GetAsync("/api/x", _world.Mint(sub: "fresh-user")))
        {
            Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        }
        using (var limitedValid = await _world.Edge.GetAsync("/limited/x", _world.Mint(sub: "fresh-user-2")))
        {
            Assert.Equal(HttpStatusCode.OK, limitedValid.StatusCode);
        }

        // A forged-signature flood from the same address still spends the budget: 5 answered, then 429.
        var statuses = new List<int>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await _world.Edge.GetAsync("/api/x", Forged(_world.Mint(sub: "forger" + i)));
            statuses.Add((int)response.StatusCode);
        }
        Assert.Equal(5, statuses.Count(s => s == 401));
        Assert.Equal(7, statuses.Count(s => s == 429));
    }

    [Fact]
    public async Task Replaying_an_expired_token_stays_401_without_a_signature_check()
    {
        var expired = Expired(1);
        using (var first = await _world.Edge.GetAsync("/api/x", expired))
        {
            await ProblemAssert.Is(first, 401, "token_expired");
        }
        var checks = SignatureChecks;
        for (var i = 0; i < 100; i++)
        {
            using var replay = await _world.Edge.GetAsync("/api/x", expired);
            await ProblemAssert.Is(replay, 401, "token_expired");
        }
        Assert.Equal(checks, SignatureChecks);
    }

    [Fact]
    public async Task A_cached_token_that_expires_is_401_on_every_replay_never_429_and_never_rechecked()
    {
        var token = _world.Mint(sub: "ages-out");
        using (var ok = await _world.Edge.GetAsync("/api/x", token))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        _world.Edge.Time.Advance(TimeSpan.FromHours(1));
        var checks = SignatureChecks;
        for (var i = 0; i < 50; i++)
        {
            using var replay = await _world.Edge.GetAsync(i % 2 == 0 ? "/api/x" : "/limited/x", token);
            await ProblemAssert.Is(replay, 401, "token_expired");
        }
        Assert.Equal(checks, SignatureChecks);
    }

    [Fact]
    public async Task A_not_yet_valid_token_is_remembered_until_it_can_become_valid()
    {
        var early = Jwt.Sign(_world.Key, Jwt.Header(_world.Key), Jwt.Claims(_world.Now.AddMinutes(10), sub: "early"));
        using (var first = await _world.Edge.GetAsync("/api/x", early))
        {
            await ProblemAssert.Is(first, 401, "unauthorized");
        }
        var checks = SignatureChecks;
        for (var i = 0; i < 20; i++)
        {
            using var replay = await _world.Edge.GetAsync("/api/x", early);
            await ProblemAssert.Is(replay, 401, "unauthorized");
        }
        Assert.Equal(checks, SignatureChecks);
        _world.Edge.Time.Advance(TimeSpan.FromMinutes(10));
        using var later = await _world.Edge.GetAsync("/api/x", early);
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }

    [Fact]
    public async Task Wrong_audience_tokens_answer_the_same_error_on_replay_without_spending_the_budget()
    {
        var foreign = Jwt.Sign(_world.Key, Jwt.Header(_world.Key), Jwt.Claims(_world.Now, sub: "elsewhere", aud: "\"api://another-api\""));
        string? detail = null;
        for (var i = 0; i < 30; i++)
        {
            using var response = await _world.Edge.GetAsync("/api/x", foreign);
            var json = await ProblemAssert.Is(response, 401, "unauthorized");
            detail ??= json.GetProperty("detail").GetString();
            Assert.Equal(detail, json.GetProperty("detail").GetString());
        }
        Assert.Contains("audience", detail);
        using var valid = await _world.Edge.GetAsync("/api/x", _world.Mint(sub: "neighbour"));
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }

    [Fact]
    public async Task A_random_api_key_flood_is_cut_off_without_locking_fresh_tokens_out_of_the_same_address()
    {
        var statuses = new List<int>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await _world.Edge.GetAsync("/api/x", Authio.Shared.ApiKeys.ApiKeyFormat.Generate(Authio.Shared.ApiKeys.ApiKeyEnvironment.Live));
            statuses.Add((int)response.StatusCode);
        }
        Assert.Equal(5, statuses.Count(s => s == 401));
        Assert.Equal(7, statuses.Count(s => s == 429));
        // Keys and tokens have a budget each: the key flood spent the key path's, a brand-new token is still checked.
        using var fresh = await _world.Edge.GetAsync("/api/x", _world.Mint(sub: "fresh-behind-nat"));
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
    }

    [Fact]
    public async Task Missing_credentials_and_wrong_schemes_do_not_spend_the_signature_budget()
    {
        for (var i = 0; i < 20; i++)
        {
            using var missing = await _world.Edge.GetAsync("/api/x");
            await ProblemAssert.Is(missing, 401, "unauthorized");
            using var basic = await _world.Edge.GetAsync("/api/x", configure: r => r.Headers.TryAddWithoutValidation("Authorization", "Basic dXNlcjpwYXNz"));
            await ProblemAssert.Is(basic, 401, "unauthorized");
        }
        using var valid = await _world.Edge.GetAsync("/api/x", _world.Mint(sub: "after-anonymous"));
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }
}
