using Authio.EdgeProxy.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Authio.EdgeProxy.Tests.Infrastructure;

/// <summary>
/// A real edge on loopback (proxy and admin listeners), in front of a <see cref="RecordingUpstream"/>, trusting a
/// <see cref="JwksServer"/>, with a fake clock the test moves.
/// </summary>
public sealed class EdgeTestHost : IAsyncDisposable
{
    private readonly EdgeHost _host;

    private EdgeTestHost(EdgeHost host, FakeTimeProvider time)
    {
        _host = host;
        Time = time;
        Client = new HttpClient { BaseAddress = new Uri(host.ProxyUrls.First()) };
        Admin = new HttpClient { BaseAddress = new Uri(host.AdminUrls.First()) };
    }

    public FakeTimeProvider Time { get; }
    /// <summary>The forward-auth listener's URL (<c>Edge:ForwardAuth:Urls</c>); null when it is off.</summary>
    public string? ForwardAuthUrl => _host.ForwardAuthUrls.FirstOrDefault();
    public HttpClient Client { get; }
    public HttpClient Admin { get; }
    internal IServiceProvider Services => _host.Services;

    /// <summary>The default test topology: one JWKS issuer and routes exercising every policy.</summary>
    public static Dictionary<string, string?> DefaultConfig(string upstreamUrl, string jwksUrl) => new()
    {
        ["Edge:AdminUrls"] = "http://127.0.0.1:0",
        ["Edge:Issuers:0:Issuer"] = Jwt.Issuer,
        ["Edge:Issuers:0:Audiences:0"] = Jwt.Audience,
        ["Edge:Issuers:0:JwksUri"] = jwksUrl,
        ["Edge:FailureBudget:Burst"] = "100000",
        ["ReverseProxy:Routes:api:ClusterId"] = "up",
        ["ReverseProxy:Routes:api:Match:Path"] = "/api/{**rest}",
        ["ReverseProxy:Routes:public:ClusterId"] = "up",
        ["ReverseProxy:Routes:public:Match:Path"] = "/public/{**rest}",
        ["ReverseProxy:Routes:public:Metadata:Authio.Anonymous"] = "true",
        ["ReverseProxy:Routes:scoped:ClusterId"] = "up",
        ["ReverseProxy:Routes:scoped:Match:Path"] = "/scoped/{**rest}",
        ["ReverseProxy:Routes:scoped:Metadata:Authio.Scopes"] = "read:things write:things",
        ["ReverseProxy:Routes:orgs:ClusterId"] = "up",
        ["ReverseProxy:Routes:orgs:Match:Path"] = "/orgs/{org}/{**rest}",
        ["ReverseProxy:Routes:orgs:Metadata:Authio.OrgRouteValue"] = "org",
        ["ReverseProxy:Routes:fwd:ClusterId"] = "up",
        ["ReverseProxy:Routes:fwd:Match:Path"] = "/fwd/{**rest}",
        ["ReverseProxy:Routes:fwd:Metadata:Authio.ForwardAuthorization"] = "true",
        ["ReverseProxy:Clusters:up:Destinations:d1:Address"] = upstreamUrl,
    };

    /// <summary>The default routes, but the only trusted issuer is whatever the control plane's sync snapshot names.</summary>
    public static Dictionary<string, string?> ControlPlaneOnlyConfig(string upstreamUrl, string controlPlaneUrl, string edgeKey)
    {
        var config = DefaultConfig(upstreamUrl, "unused");
        foreach (var key in config.Keys.Where(k => k.StartsWith("Edge:Issuers:", StringComparison.Ordinal)).ToArray())
        {
            config.Remove(key);
        }
        config["Edge:ControlPlane:Url"] = controlPlaneUrl;
        config["Edge:ControlPlane:ApiKey"] = edgeKey;
        return config;
    }

    /// <summary>Waits (bounded) until the edge-sync client has applied its first snapshot.</summary>
    public async Task WaitForSnapshotAsync()
    {
        var client = Services.GetRequiredService<Authio.EdgeProxy.Sync.EdgeSyncClient>();
        for (var i = 0; i < 200 && !client.HasSnapshot; i++)
        {
            await Task.Delay(25);
        }
        Assert.True(client.HasSnapshot, "the edge never received its first sync snapshot");
    }

    public static async Task<EdgeTestHost> StartAsync(Dictionary<string, string?> config, Action<WebApplicationBuilder>? configure = null)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var host = EdgeApp.Build([], builder =>
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Configuration.AddInMemoryCollection(config);
            if (Environment.GetEnvironmentVariable("AUTHIO_TEST_LOGS") != "1")
            {
                builder.Logging.ClearProviders();
            }
            builder.Services.AddSingleton<TimeProvider>(time);
            configure?.Invoke(builder);
        });
        await host.StartAsync();
        return new EdgeTestHost(host, time);
    }

    public Task<HttpResponseMessage> GetAsync(string path, string? token = null, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }
        configure?.Invoke(request);
        return Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Admin.Dispose();
        await _host.StopAsync();
        await _host.DisposeAsync();
    }
}

/// <summary>Per-test-class world: upstream, JWKS endpoint with two ES256 keys, and an edge in front.</summary>
public class EdgeWorld : IAsyncLifetime
{
    public RecordingUpstream Upstream { get; } = new();
    public JwksServer Jwks { get; } = new();
    public TestKey Key { get; } = TestKey.Es256("key-1");
    public EdgeTestHost Edge { get; private set; } = null!;

    protected virtual void Customize(Dictionary<string, string?> config)
    {
    }

    protected virtual void PublishKeys() => Jwks.Publish(Key);

    public async Task InitializeAsync()
    {
        await Upstream.StartAsync();
        await Jwks.StartAsync();
        PublishKeys();
        var config = EdgeTestHost.DefaultConfig(Upstream.Url, Jwks.JwksUrl);
        Customize(config);
        Edge = await EdgeTestHost.StartAsync(config);
    }

    public async Task DisposeAsync()
    {
        await Edge.DisposeAsync();
        await Jwks.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    public string Mint(string sub = "user_1", string org = "org_1", string scope = "read:things") =>
        Jwt.Mint(Key, Edge.Time.GetUtcNow(), sub, org, scope);

    public DateTimeOffset Now => Edge.Time.GetUtcNow();
}

public static class ProblemAssert
{
    public static async Task<System.Text.Json.JsonElement> Is(HttpResponseMessage response, int status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = System.Text.Json.JsonDocument.Parse(body).RootElement;
        Assert.Equal(code, json.GetProperty("code").GetString());
        // One type vocabulary with the control plane: urn:authio:problem:<code>.
        Assert.Equal(Authio.Shared.Errors.ProblemTypes.For(code), json.GetProperty("type").GetString());
        Assert.Equal(status, json.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(json.GetProperty("detail").GetString()));
        return json;
    }

    /// <summary>
    /// The refusal of a credential the edge could not check right now: 401 <c>verification_unavailable</c>, a bare
    /// challenge (not <c>invalid_token</c>: no verdict on the credential) and <c>Retry-After: 1</c>.
    /// </summary>
    public static async Task<System.Text.Json.JsonElement> Unverifiable(HttpResponseMessage response)
    {
        var json = await Is(response, 401, Authio.Shared.Errors.ErrorCodes.VerificationUnavailable);
        Assert.Equal("Bearer", Challenge(response));
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        return json;
    }

    public static string? Challenge(HttpResponseMessage response) =>
        response.Headers.WwwAuthenticate.Count == 0 ? null : string.Join(", ", response.Headers.WwwAuthenticate.Select(h => h.ToString()));
}
