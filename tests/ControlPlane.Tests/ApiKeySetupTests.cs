using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Authio.Shared.ApiKeys;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

/// <summary>SQLite accepting edge keys only from an org that is not the bootstrap org.</summary>
public sealed class EdgeOrgFixture : SqliteFixtureBase
{
    protected override IEnumerable<string> ExtraArguments => ["--ControlPlane:ApiKeys:EdgeOrgIds:0=org_operator"];
}

public sealed class EdgeOrgTests(EdgeOrgFixture f) : IClassFixture<EdgeOrgFixture>
{
    [Fact]
    public async Task Edge_keys_of_orgs_outside_EdgeOrgIds_are_refused()
    {
        // With EdgeOrgIds set, the bootstrap org is not an edge org: even its operator cannot mint an edge key there.
        var admin = await f.AdminAsync();
        var refused = await (await f.SendAsync(HttpMethod.Post, "/v1/api-keys", admin.Access,
            new { name = "edge", scopes = new[] { EdgeApiKeyPaths.EdgeSyncScope }, environment = "live" })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        Assert.Contains("operator", (string?)refused["detail"]);
        Assert.Equal(0L, await f.InspectAsync<long>("SELECT COUNT(*) FROM api_keys"));
    }
}

public sealed class ApiKeyDocsTests(SqliteFixture f) : IClassFixture<SqliteFixture>
{
    [Fact]
    public async Task OpenApi_describes_the_api_key_endpoints_and_the_edge_key_scheme()
    {
        var openapi = await (await f.Http.GetAsync("/openapi/v1.json")).BodyAsync(HttpStatusCode.OK);
        var paths = openapi["paths"]!;
        foreach (var p in new[] { "/v1/api-keys", "/v1/api-keys/{id}", "/v1/api-keys/{id}/rotate", "/v1/api-key-scopes", EdgeApiKeyPaths.Lookup, EdgeApiKeyPaths.Usage })
        {
            Assert.NotNull(paths[p]);
        }

        Assert.NotNull(openapi["components"]!["securitySchemes"]!["EdgeApiKey"]);
        var lookupSecurity = paths[EdgeApiKeyPaths.Lookup]!["post"]!["security"]!.ToJsonString();
        Assert.Contains("EdgeApiKey", lookupSecurity);
        Assert.DoesNotContain("\"Bearer\"", lookupSecurity);
    }

    /// <summary>Exactly what the edge's ControlPlaneClient does: shared contract records, default JSON options, bearer key on the client.</summary>
    [Fact]
    public async Task The_edge_client_contract_round_trips()
    {
        var admin = await f.AdminAsync();
        var edgeKey = (string)(await (await f.SendAsync(HttpMethod.Post, "/v1/api-keys", admin.Access,
            new { name = "edge", scopes = new[] { EdgeApiKeyPaths.EdgeSyncScope }, environment = "live" })).BodyAsync(HttpStatusCode.Created))["key"]!;
        var expires = f.Time.GetUtcNow().AddDays(30);
        var created = await (await f.SendAsync(HttpMethod.Post, "/v1/api-keys", admin.Access,
            new { name = "client", scopes = new[] { "read:leads", "write:leads" }, environment = "test", expires_at = expires })).BodyAsync(HttpStatusCode.Created);
        var key = (string)created["key"]!;

        using var edge = new HttpClient { BaseAddress = f.Http.BaseAddress };
        edge.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", edgeKey);
        using var found = await edge.PostAsJsonAsync(EdgeApiKeyPaths.Lookup, new ApiKeyLookupRequest(Base64Url.EncodeToString(ApiKeyFormat.ComputeDigest(key))));
        found.EnsureSuccessStatusCode();
        var record = (await found.Content.ReadFromJsonAsync<ApiKeyRecord>())!;
        Assert.Equal((string)created["id"]!, record.Id);
        Assert.StartsWith("org_", record.OrgId);
        Assert.Equal(["read:leads", "write:leads"], record.Scopes);
        Assert.Equal("test", record.Environment);
        Assert.Equal(expires.ToUnixTimeMilliseconds(), record.ExpiresAt!.Value.ToUnixTimeMilliseconds());
        Assert.False(record.Revoked);

        using var unknown = await edge.PostAsJsonAsync(EdgeApiKeyPaths.Lookup,
            new ApiKeyLookupRequest(Base64Url.EncodeToString(ApiKeyFormat.ComputeDigest(ApiKeyFormat.Generate(ApiKeyEnvironment.Test)))));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        using var reported = await edge.PostAsJsonAsync(EdgeApiKeyPaths.Usage, new ApiKeyUsageReport([new ApiKeyUsage(record.Id, 9, f.Time.GetUtcNow())]));
        Assert.Equal(HttpStatusCode.NoContent, reported.StatusCode);
        var view = await (await f.SendAsync(HttpMethod.Get, "/v1/api-keys/" + record.Id, admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(9, (long)view["use_count"]!);
    }

    [Fact]
    public async Task A_usage_entry_without_last_used_at_only_adds_to_the_count()
    {
        var admin = await f.AdminAsync();
        var edge = (string)(await (await f.SendAsync(HttpMethod.Post, "/v1/api-keys", admin.Access,
            new { name = "edge", scopes = new[] { EdgeApiKeyPaths.EdgeSyncScope }, environment = "live" })).BodyAsync(HttpStatusCode.Created))["key"]!;
        var id = (string)(await (await f.SendAsync(HttpMethod.Post, "/v1/api-keys", admin.Access,
            new { name = "k", scopes = new[] { "read:leads" }, environment = "live" })).BodyAsync(HttpStatusCode.Created))["id"]!;
        await (await f.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Usage, edge, new { keys = new object[] { new { id, count = 3 } } })).BodyAsync(HttpStatusCode.NoContent);
        // A last use in the future is clamped to now.
        await (await f.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Usage, edge, new { keys = new object[] { new { id, count = 1, last_used_at = f.Time.GetUtcNow().AddDays(1) } } }))
            .BodyAsync(HttpStatusCode.NoContent);
        var view = await (await f.SendAsync(HttpMethod.Get, "/v1/api-keys/" + id, admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(4, (long)view["use_count"]!);
        Assert.True((DateTimeOffset)view["last_used_at"]! <= f.Time.GetUtcNow());
        await (await f.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Usage, edge, new { })).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }
}
