using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.EndToEnd;

/// <summary>
/// Route policy against a real control plane's tokens: the shared scope grammar (the control plane's <c>read:*</c>
/// satisfies a route's <c>read:applications</c>), per-route issuers, claim headers and project-scoped roles.
/// </summary>
public sealed class RoutePolicyEndToEndTests() : ControlPlaneAndEdge(withRedis: false)
{
    private const string Partner = "https://partner.test";
    private static readonly byte[] PartnerSecret = Encoding.UTF8.GetBytes("partner-shared-secret-of-32-bytes!!");

    private protected override void ConfigureEdge(Dictionary<string, string?> config)
    {
        config["Edge:Issuers:0:Issuer"] = Partner;
        config["Edge:Issuers:0:Name"] = "partner";
        config["Edge:Issuers:0:Audiences:0"] = "edge";
        config["Edge:Issuers:0:SharedSecret"] = Encoding.UTF8.GetString(PartnerSecret);
        config["Edge:Issuers:0:Algorithms:0"] = "HS256";
        Route(config, "apps", "/orgs/{org}/applications/{**rest}", ("Authio.Scopes", "read:applications"), ("Authio.OrgRouteValue", "org"));
        Route(config, "writes", "/writes/{**rest}", ("Authio.Scopes", "write:*"));
        Route(config, "admin", "/adm/{**rest}", ("Authio.Scopes", "admin"));
        Route(config, "any", "/any/{**rest}", ("Authio.Scopes", "read:reports"), ("Authio.AnyScopes", "admin write:reports"));
        Route(config, "cp-only", "/cp-only/{**rest}", ("Authio.Issuers", "control-plane"), ("Authio.ClaimHeaders", "X-Role=role,X-Team=teams,X-Org-Claim=org"));
        Route(config, "partner-only", "/partner-only/{**rest}", ("Authio.Issuers", "partner"), ("Authio.ClaimHeaders", "X-Team=ext.team,X-Level=ext.level,X-Groups=groups"));
        Route(config, "projects", "/projects/{project}/{**rest}", ("Authio.ProjectRouteValue", "project"), ("Authio.Scopes", "write:*"));
        Route(config, "trimmed", "/trimmed/{**rest}", ("Authio.ClaimHeaders", "X-Role=role"));
        config["ReverseProxy:Routes:trimmed:Transforms:0:RequestHeaderRemove"] = "X-Authio-Session";
        config["ReverseProxy:Routes:trimmed:Transforms:1:RequestHeader"] = "X-Role";
        config["ReverseProxy:Routes:trimmed:Transforms:1:Append"] = "via-route";
    }

    private static void Route(Dictionary<string, string?> config, string id, string path, params (string Key, string Value)[] metadata)
    {
        config[$"ReverseProxy:Routes:{id}:ClusterId"] = "up";
        config[$"ReverseProxy:Routes:{id}:Match:Path"] = path;
        foreach (var (key, value) in metadata)
        {
            config[$"ReverseProxy:Routes:{id}:Metadata:{key}"] = value;
        }
    }

    private async Task<(string Token, string Id)> UserAsync(string admin, string email, string role)
    {
        string id;
        using (var created = await Cp.SendAsync(HttpMethod.Post, "/v1/users", admin, new { email, password = RealControlPlane.Password, role }))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }
        return (await Cp.AccessTokenAsync(email), id);
    }

    private async Task<HttpResponseMessage> Through(string path, string token, Action<HttpRequestMessage>? configure = null) =>
        await Edge.GetAsync(path, token, configure);

    private async Task<HttpStatusCode> Status(string path, string token)
    {
        using var response = await Through(path, token);
        return response.StatusCode;
    }

    private static async Task<string?> CodeOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString();

    private async Task<string> OrgAsync(string token)
    {
        using var me = await Cp.SendAsync(HttpMethod.Get, "/v1/org", token);
        return (await me.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Each_control_plane_role_meets_specific_wildcard_and_admin_routes_as_its_scopes_say()
    {
        var mod = await Cp.AccessTokenAsync();
        var org = await OrgAsync(mod);
        var (explore, _) = await UserAsync(mod, "explore@acme.test", "explore");
        var (create, _) = await UserAsync(mod, "create@acme.test", "create");

        // mod: read:* write:* admin
        Assert.Equal(HttpStatusCode.OK, await Status($"/orgs/{org}/applications", mod));
        Assert.Equal(HttpStatusCode.OK, await Status("/writes/x", mod));
        Assert.Equal(HttpStatusCode.OK, await Status("/adm/x", mod));
        Assert.Equal(HttpStatusCode.OK, await Status("/any/x", mod));
        // create: read:* write:*
        Assert.Equal(HttpStatusCode.OK, await Status($"/orgs/{org}/applications", create));
        Assert.Equal(HttpStatusCode.OK, await Status("/writes/x", create));
        Assert.Equal(HttpStatusCode.Forbidden, await Status("/adm/x", create));
        Assert.Equal(HttpStatusCode.OK, await Status("/any/x", create)); // read:* covers read:reports, write:* covers write:reports
        // explore: read:*
        Assert.Equal(HttpStatusCode.OK, await Status($"/orgs/{org}/applications", explore));
        using (var denied = await Through("/writes/x", explore))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Equal("forbidden", await CodeOf(denied));
        }
        Assert.Equal(HttpStatusCode.Forbidden, await Status("/adm/x", explore));
        Assert.Equal(HttpStatusCode.Forbidden, await Status("/any/x", explore));
        // The wildcard grants the scope, never another org.
        Assert.Equal(HttpStatusCode.Forbidden, await Status("/orgs/org_other/applications", mod));
    }

    private string PartnerToken(string payloadExtra, string sub = "partner_user")
    {
        var exp = Edge.Time.GetUtcNow().ToUnixTimeSeconds() + 600;
        return Jwt.Hs256(PartnerSecret, "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}",
            $"{{\"iss\":\"{Partner}\",\"aud\":\"edge\",\"sub\":\"{sub}\",\"exp\":{exp},\"scope\":\"read:*\"{payloadExtra}}}");
    }

    [Fact]
    public async Task A_route_restricted_to_one_issuer_refuses_the_others_with_401_and_api_keys_count_as_the_control_plane()
    {
        var mod = await Cp.AccessTokenAsync();
        var partner = PartnerToken("");
        Assert.Equal(HttpStatusCode.OK, await Status("/api/x", partner)); // unrestricted route: every issuer
        Assert.Equal(HttpStatusCode.OK, await Status("/cp-only/x", mod));
        using (var refused = await Through("/cp-only/x", partner))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("unauthorized", await CodeOf(refused));
        }
        Assert.Equal(HttpStatusCode.OK, await Status("/partner-only/x", partner));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status("/partner-only/x", mod));

        var key = (await Cp.CreateApiKeyAsync(mod, "svc", ["read:applications"])).GetProperty("key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await Status("/cp-only/x", key));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status("/partner-only/x", key));
    }

    [Fact]
    public async Task Claim_headers_carry_the_token_claims_and_a_client_cannot_spoof_them()
    {
        var mod = await Cp.AccessTokenAsync();
        var org = await OrgAsync(mod);
        static void Spoof(HttpRequestMessage request)
        {
            request.Headers.TryAddWithoutValidation("X-Team", "root-team");
            request.Headers.TryAddWithoutValidation("x-role", "superuser");
            request.Headers.TryAddWithoutValidation("X-Level", "99");
        }
        using (var response = await Through("/cp-only/x", mod, Spoof))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var received = Upstream.Last;
        Assert.Equal("mod", received.Header("X-Role"));
        Assert.Equal(org, received.Header("X-Org-Claim"));
        Assert.NotEqual("root-team", received.Header("X-Team")); // the token's (empty) teams, never the client's

        // Nested by dot, arrays joined by a space, numbers as JSON text, absent claims remove the inbound copy.
        using (var response = await Through("/partner-only/x", PartnerToken(",\"ext\":{\"team\":\"blue\"},\"groups\":[\"a\",\"b c\",7,true]"), Spoof))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        received = Upstream.Last;
        Assert.Equal("blue", received.Header("X-Team"));
        Assert.Equal("a b c 7 true", received.Header("X-Groups"));
        Assert.Null(received.Header("X-Level")); // mapped on this route, absent in the token: the inbound copy is removed

        using (var response = await Through("/partner-only/x", PartnerToken(",\"ext\":{\"team\":\"Zürich 100%\",\"level\":3}")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal("Z%C3%BCrich 100%25", Upstream.Last.Header("X-Team"));
        Assert.Equal("3", Upstream.Last.Header("X-Level"));

        // A control character in a mapped claim: the request is refused, the upstream never sees it.
        var before = Upstream.Received.Count;
        using (var refused = await Through("/partner-only/x", PartnerToken(",\"ext\":{\"team\":\"blue\\r\\nX-Admin: 1\"}")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            var body = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains("ext.team", body.GetProperty("detail").GetString());
        }
        Assert.Equal(before, Upstream.Received.Count);
    }

    [Fact]
    public async Task A_routes_own_transforms_act_on_the_identity_headers_the_edge_adds()
    {
        var mod = await Cp.AccessTokenAsync();
        using (var response = await Through("/trimmed/x", mod, r => r.Headers.TryAddWithoutValidation("X-Authio-Subject", "usr_spoofed")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var received = Upstream.Last;
        Assert.NotNull(received.Header("X-Authio-Subject"));
        Assert.NotEqual("usr_spoofed", received.Header("X-Authio-Subject"));
        Assert.Null(received.Header("X-Authio-Session")); // the route removes it; every other route forwards it
        Assert.Equal("mod, via-route", received.Header("X-Role")); // the route's transform ran after the edge set the claim
        Assert.Null(received.Header("Authorization"));

        using (var response = await Through("/cp-only/x", mod))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.NotNull(Upstream.Last.Header("X-Authio-Session"));
    }

    [Fact]
    public async Task A_project_route_needs_a_role_on_that_project_and_applies_the_higher_of_org_and_project_role()
    {
        var mod = await Cp.AccessTokenAsync();
        var (explore, exploreId) = await UserAsync(mod, "projects@acme.test", "explore");
        using (var assigned = await Cp.SendAsync(HttpMethod.Put, $"/v1/users/{exploreId}/role", mod, new { role = "create", project_id = "prj_alpha" }))
        {
            Assert.True(assigned.IsSuccessStatusCode, await assigned.Content.ReadAsStringAsync());
        }
        using (var assigned = await Cp.SendAsync(HttpMethod.Put, $"/v1/users/{exploreId}/role", mod, new { role = "explore", project_id = "prj_beta" }))
        {
            Assert.True(assigned.IsSuccessStatusCode, await assigned.Content.ReadAsStringAsync());
        }
        // The token issued before the assignment carries no project: mismatch.
        using (var stale = await Through("/projects/prj_alpha/x", explore))
        {
            Assert.Equal(HttpStatusCode.Forbidden, stale.StatusCode);
            Assert.Equal("project_mismatch", await CodeOf(stale));
        }
        var token = await Cp.AccessTokenAsync("projects@acme.test");
        var payload = JsonDocument.Parse(Jwt.B64Decode(token.Split('.')[1])).RootElement;
        Assert.Equal("create", payload.GetProperty("projects").GetProperty("prj_alpha").GetString());

        Assert.Equal(HttpStatusCode.OK, await Status("/projects/prj_alpha/x", token)); // create on the project: write:*
        using (var low = await Through("/projects/prj_beta/x", token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, low.StatusCode); // explore on both: no write
            Assert.Equal("forbidden", await CodeOf(low));
        }
        using (var other = await Through("/projects/prj_gamma/x", token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
            Assert.Equal("project_mismatch", await CodeOf(other));
        }
        Assert.Equal(HttpStatusCode.Forbidden, await Status("/writes/x", token)); // the project role applies on its project only

        // An org-wide role alone names no project, nor does an API key.
        using (var orgWide = await Through("/projects/prj_alpha/x", mod))
        {
            Assert.Equal("project_mismatch", await CodeOf(orgWide));
        }
        var key = (await Cp.CreateApiKeyAsync(mod, "proj", ["write:applications"])).GetProperty("key").GetString()!;
        using (var apiKey = await Through("/projects/prj_alpha/x", key))
        {
            Assert.Equal(HttpStatusCode.Forbidden, apiKey.StatusCode);
            Assert.Equal("project_mismatch", await CodeOf(apiKey));
        }
    }
}
