using System.Net;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.ForwardAuth;

/// <summary>
/// Real nginx running <c>deploy/forward-auth/nginx.conf</c> in front of an application, with the edge's forward-auth
/// listener as its auth service: what a client of nginx and the application behind it notice.
/// </summary>
public sealed class NginxForwardAuthTests(ForwardAuthWorld world) : IClassFixture<ForwardAuthWorld>, IAsyncLifetime
{
    private NginxProcess? _nginx;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        if (NginxProcess.Binary is null)
        {
            return; // skipped (NginxFact)
        }
        _nginx = await NginxProcess.StartAsync(world.Edge.ForwardAuthUrl!, world.Upstream.Url);
        _client = new HttpClient { BaseAddress = new Uri(_nginx.Url), Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string? token = null, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }
        configure?.Invoke(request);
        return await _client.SendAsync(request);
    }

    [NginxFact]
    public async Task A_valid_token_reaches_the_application_with_the_identity_headers_and_without_the_credential()
    {
        var token = world.Mint(sub: "nginx_user", org: "org_n");
        using var response = await GetAsync("/api/orders/7?full=1", token,
            r => r.Headers.TryAddWithoutValidation("X-Authio-Key-Id", "spoofed"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{_nginx!.Output}");
        Assert.Equal("upstream-ok", await response.Content.ReadAsStringAsync());
        var received = world.Upstream.Last;
        Assert.Equal("/api/orders/7", received.Path);
        Assert.Equal("nginx_user", received.Header("X-Authio-Subject"));
        Assert.Equal("org_n", received.Header("X-Authio-Org"));
        Assert.Equal("read:things", received.Header("X-Authio-Scopes"));
        Assert.Equal("jwt", received.Header("X-Authio-Auth-Type"));
        Assert.Null(received.Header("X-Authio-Key-Id")); // the client's own copy is dropped
        Assert.Null(received.Header("Authorization"));
    }

    [NginxFact]
    public async Task Refusals_reach_the_client_with_the_edge_status_body_and_challenge()
    {
        var before = world.Upstream.Received.Count;
        using (var missing = await GetAsync("/api/x"))
        {
            await ProblemAssert.Is(missing, 401, "unauthorized");
            Assert.Equal("Bearer", ProblemAssert.Challenge(missing));
        }
        var expired = Jwt.Sign(world.Key, Jwt.Header(world.Key), Jwt.Claims(world.Now.AddHours(-2), exp: world.Now.AddHours(-1).ToUnixTimeSeconds()));
        using (var old = await GetAsync("/api/x", expired))
        {
            await ProblemAssert.Is(old, 401, "token_expired");
            Assert.Contains("invalid_token", ProblemAssert.Challenge(old));
        }
        using (var forbidden = await GetAsync("/scoped/x", world.Mint(scope: "read:things")))
        {
            await ProblemAssert.Is(forbidden, 403, "forbidden");
            Assert.Contains("insufficient_scope", ProblemAssert.Challenge(forbidden));
        }
        using (var stepUp = await GetAsync("/recent/x", world.Mint()))
        {
            await ProblemAssert.Is(stepUp, 401, "step_up_required");
            Assert.Contains("insufficient_user_authentication", ProblemAssert.Challenge(stepUp));
        }
        using (var unknown = await GetAsync("/nowhere", world.Mint()))
        {
            await ProblemAssert.Is(unknown, 404, "not_found");
        }
        Assert.Equal(before, world.Upstream.Received.Count);
    }

    [NginxFact]
    public async Task A_rate_limited_caller_gets_the_edge_429_with_retry_after()
    {
        var token = world.Mint(sub: "nginx_limited");
        for (var i = 0; i < 2; i++)
        {
            using var ok = await GetAsync("/limited/x", token);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var limited = await GetAsync("/limited/x", token);
        await ProblemAssert.Is(limited, 429, "rate_limit_exceeded");
        Assert.NotNull(limited.Headers.RetryAfter);
    }

    [NginxFact]
    public async Task A_token_revoked_after_it_was_accepted_is_refused_through_nginx_and_never_reaches_the_application()
    {
        var token = Jwt.Sign(world.Key, Jwt.Header(world.Key),
            Jwt.Claims(world.Now, sub: "nginx_revoked", scope: "read:things").Replace("\"sess_1\"", "\"sess_nginx_revoked\""));
        using (var accepted = await GetAsync("/api/r", token))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        // The session ends: the edge's revocation state is what a control plane's feed delivers.
        var revocations = world.Edge.Services.GetRequiredService<RevocationStage>();
        revocations.Apply([new RevokedId(RevocationKind.SessionId, "sess_nginx_revoked", world.Now.AddHours(1).ToUnixTimeSeconds())],
            revocations.Current.Sequence + 1);
        var before = world.Upstream.Received.Count;
        using var refused = await GetAsync("/api/r", token);
        var problem = await ProblemAssert.Is(refused, 401, "unauthorized");
        Assert.Contains("revoked", problem.GetProperty("detail").GetString());
        Assert.Contains("invalid_token", ProblemAssert.Challenge(refused));
        Assert.Equal(before, world.Upstream.Received.Count);
    }
}
