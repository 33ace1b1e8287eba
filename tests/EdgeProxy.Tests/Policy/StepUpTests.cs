using System.Net;
using Authio.EdgeProxy.Policy;
using Authio.EdgeProxy.Tests.ApiKeys;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Tokens;
using Yarp.ReverseProxy.Configuration;

namespace Authio.EdgeProxy.Tests.Policy;

/// <summary>
/// Step-up at the edge (RFC 9470): routes with <c>Authio.MaxAuthAge</c> and/or <c>Authio.Acr</c> through a real edge.
/// A valid token whose sign-in is too old or too weak gets 401 <c>step_up_required</c> with the challenge a client can
/// act on; an API key never satisfies such a route.
/// </summary>
public sealed class StepUpTests : IAsyncLifetime
{
    private sealed class World(FakeControlPlane controlPlane) : EdgeWorld
    {
        protected override void Customize(Dictionary<string, string?> config)
        {
            config["Edge:ControlPlane:Url"] = controlPlane.Url;
            config["Edge:ControlPlane:ApiKey"] = controlPlane.EdgeKey;
            config["ReverseProxy:Routes:recent:ClusterId"] = "up";
            config["ReverseProxy:Routes:recent:Match:Path"] = "/recent/{**rest}";
            config["ReverseProxy:Routes:recent:Metadata:Authio.MaxAuthAge"] = "300";
            config["ReverseProxy:Routes:strong:ClusterId"] = "up";
            config["ReverseProxy:Routes:strong:Match:Path"] = "/strong/{**rest}";
            config["ReverseProxy:Routes:strong:Metadata:Authio.Acr"] = "mfa";
            config["ReverseProxy:Routes:both:ClusterId"] = "up";
            config["ReverseProxy:Routes:both:Match:Path"] = "/both/{**rest}";
            config["ReverseProxy:Routes:both:Metadata:Authio.MaxAuthAge"] = "300";
            config["ReverseProxy:Routes:both:Metadata:Authio.Acr"] = "urn:authio:acr:phr";
            config["ReverseProxy:Routes:both:Metadata:Authio.Scopes"] = "write:things";
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

    private string Token(long? authTimeAgo, string? acr, string scope = "read:things")
    {
        var now = _world.Now;
        var extra = new List<string>();
        if (authTimeAgo is { } ago)
        {
            extra.Add($"\"auth_time\":{now.ToUnixTimeSeconds() - ago}");
        }
        if (acr is not null)
        {
            extra.Add($"\"acr\":\"{acr}\",\"amr\":[\"pwd\"]");
        }
        return Jwt.Sign(_world.Key, Jwt.Header(_world.Key), Jwt.Claims(now, scope: scope, extra: extra.Count == 0 ? null : string.Join(',', extra)));
    }

    [Fact]
    public async Task A_recent_sign_in_passes_and_a_ten_minute_old_one_gets_the_max_age_challenge()
    {
        using (var fresh = await _world.Edge.GetAsync("/recent/x", Token(60, AuthenticationLevels.Password)))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }
        var before = _world.Upstream.Received.Count;
        using var old = await _world.Edge.GetAsync("/recent/x", Token(600, AuthenticationLevels.Password));
        var json = await ProblemAssert.Is(old, 401, "step_up_required");
        var challenge = ProblemAssert.Challenge(old)!;
        Assert.StartsWith("Bearer error=\"insufficient_user_authentication\"", challenge);
        Assert.Contains("error_description=\"", challenge);
        Assert.Contains("max_age=300", challenge);
        Assert.DoesNotContain("acr_values", challenge);
        Assert.Contains("300 seconds", json.GetProperty("detail").GetString());
        Assert.Equal(before, _world.Upstream.Received.Count);
    }

    [Fact]
    public async Task A_cached_token_becomes_too_old_as_time_passes()
    {
        var token = Token(0, AuthenticationLevels.MultiFactor);
        using (var first = await _world.Edge.GetAsync("/recent/x", token))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        _world.Edge.Time.Advance(TimeSpan.FromSeconds(301)); // the token (15 min) is still valid; its sign-in is not recent
        using var later = await _world.Edge.GetAsync("/recent/x", token);
        await ProblemAssert.Is(later, 401, "step_up_required");
        Assert.Contains("max_age=300", ProblemAssert.Challenge(later));
    }

    [Fact]
    public async Task A_token_without_auth_time_is_too_old_for_any_age_limit()
    {
        using var response = await _world.Edge.GetAsync("/recent/x", Token(null, AuthenticationLevels.PhishingResistant));
        await ProblemAssert.Is(response, 401, "step_up_required");
        Assert.Contains("max_age=300", ProblemAssert.Challenge(response));
    }

    [Fact]
    public async Task A_weak_or_missing_acr_gets_the_acr_values_challenge_and_a_strong_one_passes()
    {
        foreach (var weak in new[] { AuthenticationLevels.Password, "urn:example:unknown", null })
        {
            using var response = await _world.Edge.GetAsync("/strong/x", Token(60, weak));
            await ProblemAssert.Is(response, 401, "step_up_required");
            var challenge = ProblemAssert.Challenge(response)!;
            Assert.Contains("error=\"insufficient_user_authentication\"", challenge);
            Assert.Contains("acr_values=\"urn:authio:acr:mfa\"", challenge);
            Assert.DoesNotContain("max_age", challenge);
        }
        foreach (var strong in new[] { AuthenticationLevels.MultiFactor, AuthenticationLevels.PhishingResistant })
        {
            using var response = await _world.Edge.GetAsync("/strong/x", Token(100_000, strong)); // no age limit on this route
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Both_requirements_name_both_parameters_and_scopes_are_checked_first()
    {
        using (var oldAndWeak = await _world.Edge.GetAsync("/both/x", Token(600, AuthenticationLevels.MultiFactor, "write:things")))
        {
            await ProblemAssert.Is(oldAndWeak, 401, "step_up_required");
            var challenge = ProblemAssert.Challenge(oldAndWeak)!;
            Assert.Contains("max_age=300", challenge);
            Assert.Contains("acr_values=\"urn:authio:acr:phr\"", challenge);
        }
        // Stepping up cannot add a scope: a token lacking one is 403, whatever its sign-in.
        using (var noScope = await _world.Edge.GetAsync("/both/x", Token(600, AuthenticationLevels.Password)))
        {
            await ProblemAssert.Is(noScope, 403, "forbidden");
            Assert.Contains("insufficient_scope", ProblemAssert.Challenge(noScope));
        }
        using (var ok = await _world.Edge.GetAsync("/both/x", Token(10, AuthenticationLevels.PhishingResistant, "write:things")))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
    }

    [Fact]
    public async Task Api_keys_never_satisfy_a_step_up_route()
    {
        var key = _controlPlane.Issue("key_su", "org_1", ["read:things", "write:things"]);
        using (var plain = await _world.Edge.GetAsync("/api/x", key))
        {
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        }
        var before = _world.Upstream.Received.Count;
        foreach (var path in new[] { "/recent/x", "/strong/x", "/both/x" })
        {
            using var response = await _world.Edge.GetAsync(path, key);
            var json = await ProblemAssert.Is(response, 403, "forbidden");
            Assert.Contains("API keys never satisfy it", json.GetProperty("detail").GetString());
        }
        Assert.Equal(before, _world.Upstream.Received.Count);
    }

    [Fact]
    public void Levels_are_read_as_urn_or_short_name_and_anonymous_routes_cannot_require_them()
    {
        static RouteConfig Route(params (string Key, string Value)[] metadata) => new()
        {
            RouteId = "r", ClusterId = "up", Match = new RouteMatch { Path = "/r/{**rest}" },
            Metadata = metadata.ToDictionary(m => m.Key, m => m.Value),
        };
        Assert.True(RoutePolicy.TryCompile(Route(("Authio.Acr", "phr"), ("Authio.MaxAuthAge", " 600 ")), out var policy, out var error), error);
        Assert.Equal(AuthenticationLevels.PhishingResistant, policy.StepUp!.Acr);
        Assert.Equal(600, policy.StepUp.MaxAuthAge);
        Assert.True(RoutePolicy.TryCompile(Route(("Authio.Acr", AuthenticationLevels.MultiFactor)), out policy, out error), error);
        Assert.Equal(0, policy.StepUp!.MaxAuthAge);
        Assert.False(RoutePolicy.TryCompile(Route(("Authio.Anonymous", "true"), ("Authio.MaxAuthAge", "60")), out _, out error));
        Assert.Contains("Route 'r'", error);
        Assert.Contains("Authio.MaxAuthAge", error);
        Assert.False(RoutePolicy.TryCompile(Route(("Authio.Acr", "strong")), out _, out error));
        Assert.Contains("Route 'r': Authio.Acr 'strong'", error);
    }
}
