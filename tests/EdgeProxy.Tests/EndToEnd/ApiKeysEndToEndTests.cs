using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.EndToEnd;

/// <summary>API keys from the real control plane, used at the real edge that looks them up with its own edge:sync key.</summary>
public sealed class ApiKeysEndToEndTests : IAsyncLifetime
{
    private readonly RecordingUpstream _upstream = new();
    private RealControlPlane _cp = null!;
    private EdgeTestHost _edge = null!;
    private string _admin = null!;

    public async Task InitializeAsync()
    {
        _cp = await RealControlPlane.StartAsync();
        _admin = await _cp.AccessTokenAsync();
        var edgeKey = (await CreateKey("edge-1", ["edge:sync"])).GetProperty("key").GetString()!;
        await _upstream.StartAsync();
        var config = EdgeTestHost.DefaultConfig(_upstream.Url, _cp.Url + "/.well-known/jwks.json");
        config["Edge:ControlPlane:Url"] = _cp.Url;
        config["Edge:ControlPlane:ApiKey"] = edgeKey;
        config["Edge:ControlPlane:Sync"] = "false"; // this class exercises the lookup cache alone; the feed has its own tests
        config["Edge:ApiKeys:CacheDuration"] = "00:00:00.500";
        config["ReverseProxy:Routes:apps:ClusterId"] = "up";
        config["ReverseProxy:Routes:apps:Match:Path"] = "/apps/{**rest}";
        config["ReverseProxy:Routes:apps:Metadata:Authio.Scopes"] = "write:applications";
        _edge = await EdgeTestHost.StartAsync(config);
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _upstream.DisposeAsync();
        await _cp.DisposeAsync();
    }

    private Task<HttpResponseMessage> Admin(HttpMethod method, string path, object? body = null) => _cp.SendAsync(method, path, _admin, body);

    private Task<JsonElement> CreateKey(string name, string[] scopes, string environment = "live") => _cp.CreateApiKeyAsync(_admin, name, scopes, environment);

    private async Task<HttpStatusCode> Eventually(string path, string key, HttpStatusCode expected)
    {
        var status = HttpStatusCode.OK;
        for (var i = 0; i < 60; i++)
        {
            using var response = await _edge.GetAsync(path, key);
            status = response.StatusCode;
            if (status == expected)
            {
                break;
            }
            _edge.Time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(100);
        }
        return status;
    }

    [Fact]
    public async Task Create_use_scope_denied_org_mismatch_revoke_rejected()
    {
        var created = await CreateKey("ci-pipeline", ["read:applications"]);
        var key = created.GetProperty("key").GetString()!;
        var id = created.GetProperty("id").GetString()!;

        using (var ok = await _edge.GetAsync("/api/applications", key))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        var received = _upstream.Last;
        Assert.Equal("api_key", received.Header("X-Authio-Auth-Type"));
        Assert.Equal(id, received.Header("X-Authio-Key-Id"));
        Assert.Equal("read:applications", received.Header("X-Authio-Scopes"));
        var org = received.Header("X-Authio-Org");
        Assert.NotNull(org);
        Assert.Null(received.Header("Authorization"));

        using (var denied = await _edge.GetAsync("/apps/1", key))
        {
            await ProblemAssert.Is(denied, 403, "forbidden");
        }
        using (var otherOrg = await _edge.GetAsync("/orgs/org_someone_else/x", key))
        {
            await ProblemAssert.Is(otherOrg, 403, "org_mismatch");
        }
        using (var ownOrg = await _edge.GetAsync($"/orgs/{org}/x", key))
        {
            Assert.Equal(HttpStatusCode.OK, ownOrg.StatusCode);
        }

        using (var revoke = await Admin(HttpMethod.Delete, $"/v1/api-keys/{id}"))
        {
            Assert.True(revoke.IsSuccessStatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await Eventually("/api/applications", key, HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task Rotation_with_grace_keeps_both_secrets_working_and_usage_reaches_the_listing()
    {
        var created = await CreateKey("rotating", ["read:applications"]);
        var oldKey = created.GetProperty("key").GetString()!;
        var id = created.GetProperty("id").GetString()!;
        using var rotate = await Admin(HttpMethod.Post, $"/v1/api-keys/{id}/rotate", new { grace_period_seconds = 3600 });
        Assert.Equal(HttpStatusCode.Created, rotate.StatusCode);
        var newKey = (await rotate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;

        foreach (var key in new[] { oldKey, newKey, oldKey, newKey })
        {
            using var response = await _edge.GetAsync("/api/x", key);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(id, _upstream.Last.Header("X-Authio-Key-Id"));
        }

        long useCount = 0;
        for (var i = 0; i < 50 && useCount < 4; i++)
        {
            _edge.Time.Advance(TimeSpan.FromSeconds(10)); // the usage report period
            await Task.Delay(100);
            using var listing = await Admin(HttpMethod.Get, $"/v1/api-keys/{id}");
            useCount = (await listing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("use_count").GetInt64();
        }
        Assert.Equal(4, useCount);
    }

    [Fact]
    public async Task A_test_key_is_refused_by_a_live_edge()
    {
        var key = (await CreateKey("staging", ["read:applications"], "test")).GetProperty("key").GetString()!;
        using var response = await _edge.GetAsync("/api/x", key);
        var problem = await ProblemAssert.Is(response, 401, "unauthorized");
        Assert.Contains("test key", problem.GetProperty("detail").GetString());
    }
}
