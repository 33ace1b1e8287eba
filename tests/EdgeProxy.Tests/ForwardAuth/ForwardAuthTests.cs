using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.ForwardAuth;

public sealed class ForwardAuthWorld : EdgeWorld
{
    public const string SecretHeader = "X-Edge-Forward-Auth-Secret";
    public const string Secret = "change-me-to-the-shared-secret";

    protected override void Customize(Dictionary<string, string?> config)
    {
        config["Edge:ForwardAuth:Urls"] = "http://127.0.0.1:0";
        config["Edge:ForwardAuth:SharedSecretHeader"] = SecretHeader;
        config["Edge:ForwardAuth:SharedSecret"] = Secret;
        config["ReverseProxy:Routes:limited:ClusterId"] = "up";
        config["ReverseProxy:Routes:limited:Match:Path"] = "/limited/{**rest}";
        config["ReverseProxy:Routes:limited:Metadata:Authio.RateLimit"] = "2/1m per subject";
        config["ReverseProxy:Routes:teams:ClusterId"] = "up";
        config["ReverseProxy:Routes:teams:Match:Path"] = "/teams/{**rest}";
        config["ReverseProxy:Routes:teams:Metadata:Authio.ClaimHeaders"] = "X-Team=teams";
        config["ReverseProxy:Routes:writes:ClusterId"] = "up";
        config["ReverseProxy:Routes:writes:Match:Path"] = "/writes/{**rest}";
        config["ReverseProxy:Routes:writes:Match:Methods:0"] = "POST";
        config["ReverseProxy:Routes:recent:ClusterId"] = "up";
        config["ReverseProxy:Routes:recent:Match:Path"] = "/recent/{**rest}";
        config["ReverseProxy:Routes:recent:Metadata:Authio.MaxAuthAge"] = "300";
    }

    private HttpClient? _checks;

    /// <summary>A client of the forward-auth listener, as the proxy in front would call it.</summary>
    public HttpClient Checks => _checks ??= new HttpClient { BaseAddress = new Uri(Edge.ForwardAuthUrl!) };

    public Task<HttpResponseMessage> CheckAsync(string? uri, string? token = null, string method = "GET", bool secret = true,
        Action<HttpRequestMessage>? configure = null, string path = "/authz")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (uri is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-Uri", uri);
        }
        request.Headers.TryAddWithoutValidation("X-Forwarded-Method", method);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "api.example.com");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");
        if (secret)
        {
            request.Headers.TryAddWithoutValidation(SecretHeader, Secret);
        }
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }
        configure?.Invoke(request);
        return Checks.SendAsync(request);
    }
}

/// <summary>
/// The forward-auth listener: checks rewritten into the original request and decided by the same stages as inline
/// mode, answered 200 with the identity headers or with the inline refusal; nothing is ever forwarded by the edge.
/// </summary>
public sealed class ForwardAuthTests(ForwardAuthWorld world) : IClassFixture<ForwardAuthWorld>
{
    [Fact]
    public async Task A_valid_token_is_answered_200_with_the_identity_headers_and_nothing_is_forwarded()
    {
        var before = world.Upstream.Received.Count;
        using var response = await world.CheckAsync("/api/orders/42?x=1", world.Mint(sub: "user_7", org: "org_9"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("user_7", Header(response, "X-Authio-Subject"));
        Assert.Equal("org_9", Header(response, "X-Authio-Org"));
        Assert.Equal("read:things", Header(response, "X-Authio-Scopes"));
        Assert.Equal("jwt", Header(response, "X-Authio-Auth-Type"));
        Assert.Equal("sess_1", Header(response, "X-Authio-Session"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(before, world.Upstream.Received.Count);
    }

    [Fact]
    public async Task Claim_headers_of_the_route_are_in_the_answer()
    {
        var token = Jwt.Sign(world.Key, Jwt.Header(world.Key), Jwt.Claims(world.Now, extra: "\"teams\":[\"red\",\"blue\"]"));
        using var response = await world.CheckAsync("/teams/x", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("red blue", Header(response, "X-Team"));
    }

    [Fact]
    public async Task Refusals_are_the_inline_answers()
    {
        using (var missing = await world.CheckAsync("/api/x"))
        {
            await ProblemAssert.Is(missing, 401, "unauthorized");
            Assert.Equal("Bearer", ProblemAssert.Challenge(missing));
        }
        var expired = Jwt.Sign(world.Key, Jwt.Header(world.Key), Jwt.Claims(world.Now.AddHours(-2), exp: world.Now.AddHours(-1).ToUnixTimeSeconds()));
        using (var old = await world.CheckAsync("/api/x", expired))
        {
            await ProblemAssert.Is(old, 401, "token_expired");
        }
        using (var forbidden = await world.CheckAsync("/scoped/x", world.Mint(scope: "read:things")))
        {
            await ProblemAssert.Is(forbidden, 403, "forbidden");
            Assert.Contains("insufficient_scope", ProblemAssert.Challenge(forbidden));
        }
        using (var org = await world.CheckAsync("/orgs/org_b/x", world.Mint(org: "org_a")))
        {
            await ProblemAssert.Is(org, 403, "org_mismatch");
        }
        using (var stepUp = await world.CheckAsync("/recent/x", world.Mint()))
        {
            await ProblemAssert.Is(stepUp, 401, "step_up_required");
            Assert.Contains("max_age=300", ProblemAssert.Challenge(stepUp));
        }
    }

    [Fact]
    public async Task The_route_table_decides_paths_and_methods()
    {
        using (var unknown = await world.CheckAsync("/nowhere", world.Mint()))
        {
            await ProblemAssert.Is(unknown, 404, "not_found");
        }
        using (var anonymous = await world.CheckAsync("/public/x", configure: r => r.Headers.TryAddWithoutValidation("X-Authio-Subject", "spoofed")))
        {
            Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
            Assert.False(anonymous.Headers.Contains("X-Authio-Subject"));
        }
        using (var wrongMethod = await world.CheckAsync("/writes/x", world.Mint(), method: "GET"))
        {
            await ProblemAssert.Is(wrongMethod, 405, "method_not_allowed");
        }
        using (var post = await world.CheckAsync("/writes/x", world.Mint(), method: "POST"))
        {
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        }
        using (var dots = await world.CheckAsync("/api/../admin", world.Mint()))
        {
            await ProblemAssert.Is(dots, 400, "invalid_path");
        }
    }

    [Fact]
    public async Task Rate_limits_are_shared_and_answered_429_with_retry_after()
    {
        var token = world.Mint(sub: "limited_user");
        for (var i = 0; i < 2; i++)
        {
            using var ok = await world.CheckAsync("/limited/x", token);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var limited = await world.CheckAsync("/limited/x", token);
        await ProblemAssert.Is(limited, 429, "rate_limit_exceeded");
        Assert.NotNull(limited.Headers.RetryAfter);
        // Inline requests draw from the same bucket.
        using var inline = await world.Edge.GetAsync("/limited/x", token);
        Assert.Equal(HttpStatusCode.TooManyRequests, inline.StatusCode);
    }

    [Fact]
    public async Task Envoy_style_checks_carry_the_original_path_under_the_prefix()
    {
        using (var underPrefix = await world.CheckAsync(null, world.Mint(), path: "/authz/api/orders/1?q=2"))
        {
            Assert.Equal(HttpStatusCode.OK, underPrefix.StatusCode);
        }
        using (var envoyPath = await world.CheckAsync(null, world.Mint(scope: "read:things"), path: "/authz/api/x",
            configure: r => r.Headers.TryAddWithoutValidation("x-envoy-original-path", "/scoped/x")))
        {
            await ProblemAssert.Is(envoyPath, 403, "forbidden");
        }
        using (var envoyMethod = await world.Checks.SendAsync(EnvoyCheck(HttpMethod.Post, "/authz/writes/x", world.Mint())))
        {
            Assert.Equal(HttpStatusCode.OK, envoyMethod.StatusCode); // Envoy checks with the original method itself
        }
        using (var envoyWrongMethod = await world.Checks.SendAsync(EnvoyCheck(HttpMethod.Delete, "/authz/writes/x", world.Mint())))
        {
            await ProblemAssert.Is(envoyWrongMethod, 405, "method_not_allowed");
        }
        using (var originalUri = await world.CheckAsync(null, world.Mint(),
            configure: r => r.Headers.TryAddWithoutValidation("X-Original-URI", "/api/y")))
        {
            Assert.Equal(HttpStatusCode.OK, originalUri.StatusCode);
        }
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("https://evil.example.com/api/x", null)]
    [InlineData("api/x", null)]
    [InlineData("//evil/api/x", null)]
    [InlineData("/api/x", "X-Forwarded-For=not-an-ip")]
    [InlineData("/api/x", "X-Forwarded-Proto=gopher")]
    [InlineData("/api/x", "X-Forwarded-Method=GE T")]
    [InlineData("/api/x", "X-Forwarded-Host=a.example.com/b")]
    [InlineData("/api/x", "X-Forwarded-Uri=/api/second")]
    public async Task Missing_or_malformed_forwarded_headers_are_400(string? uri, string? extra)
    {
        using var response = await world.CheckAsync(uri, world.Mint(), configure: r =>
        {
            if (extra is not null)
            {
                var (name, value) = (extra[..extra.IndexOf('=')], extra[(extra.IndexOf('=') + 1)..]);
                r.Headers.Remove(name);
                if (name != "X-Forwarded-Uri")
                {
                    r.Headers.TryAddWithoutValidation(name, value);
                }
                else
                {
                    r.Headers.TryAddWithoutValidation(name, [uri!, value]); // twice: which one is meant?
                }
            }
        });
        await ProblemAssert.Is(response, 400, "invalid_forwarded_request");
    }

    [Fact]
    public async Task Checks_without_the_shared_secret_are_refused_and_other_paths_are_404()
    {
        using (var noSecret = await world.CheckAsync("/api/x", world.Mint(), secret: false))
        {
            await ProblemAssert.Is(noSecret, 401, "unauthorized");
        }
        using (var wrong = await world.CheckAsync("/api/x", world.Mint(), secret: false,
            configure: r => r.Headers.TryAddWithoutValidation(ForwardAuthWorld.SecretHeader, ForwardAuthWorld.Secret + "x")))
        {
            await ProblemAssert.Is(wrong, 401, "unauthorized");
        }
        using (var elsewhere = await world.CheckAsync("/api/x", world.Mint(), path: "/api/x"))
        {
            await ProblemAssert.Is(elsewhere, 404, "not_found");
        }
    }

    [Fact]
    public async Task The_proxy_listener_does_not_answer_checks()
    {
        using var response = await world.Edge.GetAsync("/authz", world.Mint(),
            r => r.Headers.TryAddWithoutValidation("X-Forwarded-Uri", "/api/x"));
        await ProblemAssert.Is(response, 404, "not_found");
    }

    private static HttpRequestMessage EnvoyCheck(HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "198.51.100.2");
        request.Headers.TryAddWithoutValidation(ForwardAuthWorld.SecretHeader, ForwardAuthWorld.Secret);
        return request;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}

public sealed class ForwardAuthBindingTests
{
    [Theory]
    [InlineData("http://127.0.0.1:9002", true)]
    [InlineData("http://localhost:9002", true)]
    [InlineData("http://[::1]:9002", true)]
    [InlineData("http://10.1.2.3:9002", true)]
    [InlineData("http://172.20.0.5:9002", true)]
    [InlineData("http://192.168.1.10:9002", true)]
    [InlineData("http://[fd00::5]:9002", true)]
    [InlineData("http://0.0.0.0:9002", false)]
    [InlineData("http://*:9002", false)]
    [InlineData("http://203.0.113.9:9002", false)]
    [InlineData("http://172.32.0.1:9002", false)]
    public void Only_loopback_and_private_bindings_pass_without_a_warning(string url, bool quiet) =>
        Assert.Equal(quiet, Authio.EdgeProxy.ForwardAuth.ForwardAuthApp.IsLoopbackOrPrivate(url));
}
