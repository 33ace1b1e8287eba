using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.EndToEnd;

/// <summary>
/// The real control plane (SQLite) signs users in; the real edge, configured only with the control plane's JWKS
/// URL, validates those tokens and enforces the scopes of each user's role.
/// </summary>
public sealed class ControlPlaneToEdgeTests : IAsyncLifetime
{
    private const string Issuer = "http://control-plane.test";
    private readonly RecordingUpstream _upstream = new();
    private RealControlPlane _cp = null!;
    private EdgeTestHost _edge = null!;

    public async Task InitializeAsync()
    {
        _cp = await RealControlPlane.StartAsync($"--ControlPlane:Issuer={Issuer}");
        await _upstream.StartAsync();
        var config = EdgeTestHost.DefaultConfig(_upstream.Url, _cp.Url + "/.well-known/jwks.json");
        config["Edge:Issuers:0:Issuer"] = Issuer;
        config["Edge:Issuers:0:Audiences:0"] = "authio-api";
        config["ReverseProxy:Routes:write:ClusterId"] = "up";
        config["ReverseProxy:Routes:write:Match:Path"] = "/write/{**rest}";
        config["ReverseProxy:Routes:write:Metadata:Authio.Scopes"] = "write:*";
        config["ReverseProxy:Routes:admin:ClusterId"] = "up";
        config["ReverseProxy:Routes:admin:Match:Path"] = "/admin/{**rest}";
        config["ReverseProxy:Routes:admin:Metadata:Authio.Scopes"] = "admin";
        _edge = await EdgeTestHost.StartAsync(config);
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _upstream.DisposeAsync();
        await _cp.DisposeAsync();
    }

    private async Task<string> CreateUserAndLogin(string adminToken, string email, string role)
    {
        using var created = await _cp.SendAsync(HttpMethod.Post, "/v1/users", adminToken, new { email, password = RealControlPlane.Password, role });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        return await _cp.AccessTokenAsync(email);
    }

    private async Task<HttpStatusCode> Through(string path, string token)
    {
        using var response = await _edge.GetAsync(path, token);
        return response.StatusCode;
    }

    [Fact]
    public async Task Tokens_from_login_validate_at_the_edge_with_role_scopes_enforced()
    {
        var admin = await _cp.AccessTokenAsync();
        var reader = await CreateUserAndLogin(admin, "reader@acme.test", "explore");
        var writer = await CreateUserAndLogin(admin, "writer@acme.test", "create");

        Assert.Equal(HttpStatusCode.OK, await Through("/api/items", reader));
        var received = _upstream.Last;
        Assert.Equal("read:*", received.Header("X-Authio-Scopes"));
        Assert.NotNull(received.Header("X-Authio-Subject"));
        Assert.NotNull(received.Header("X-Authio-Org"));
        Assert.NotNull(received.Header("X-Authio-Session"));
        Assert.NotNull(received.Header("X-Authio-Token-Id"));

        Assert.Equal(HttpStatusCode.Forbidden, await Through("/write/items", reader));
        Assert.Equal(HttpStatusCode.OK, await Through("/write/items", writer));
        Assert.Equal(HttpStatusCode.Forbidden, await Through("/admin/users", writer));
        Assert.Equal(HttpStatusCode.OK, await Through("/admin/users", admin));

        var org = received.Header("X-Authio-Org");
        Assert.Equal(HttpStatusCode.OK, await Through($"/orgs/{org}/items", reader));
        Assert.Equal(HttpStatusCode.Forbidden, await Through("/orgs/some-other-org/items", reader));
    }

    [Fact]
    public async Task Refreshed_tokens_validate_and_tokens_from_a_revoked_signing_key_do_not()
    {
        var login = await _cp.LoginAsync();
        var first = login.GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await Through("/admin/x", first));

        using var refreshed = await _cp.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = login.GetProperty("refresh_token").GetString() });
        var second = (await refreshed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await Through("/admin/x", second));

        // Revoke the signing key: it leaves the JWKS at once; the edge's next unknown-kid/refresh drops it.
        var kid = JsonDocument.Parse(Jwt.B64Decode(first.Split('.')[0])).RootElement.GetProperty("kid").GetString();
        using (var revoked = await _cp.SendAsync(HttpMethod.Post, $"/v1/signing-keys/{kid}/revoke", second))
        {
            Assert.True(revoked.IsSuccessStatusCode, await revoked.Content.ReadAsStringAsync());
        }
        var fresh = await _cp.AccessTokenAsync();
        Assert.Equal(HttpStatusCode.OK, await Through("/admin/x", fresh)); // new kid: fetched on first sight
        Assert.Equal(HttpStatusCode.Unauthorized, await Through("/admin/x", first)); // cached, but its key is gone
    }
}
