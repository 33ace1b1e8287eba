using System.Buffers.Text;
using System.Net;
using System.Text.Json.Nodes;
using Authio.Shared.ApiKeys;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;
using Dapper;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    private static string DigestOf(string key) => Base64Url.EncodeToString(ApiKeyFormat.ComputeDigest(key));

    private async Task<JsonNode> CreateKeyAsync(string accessToken, object body) =>
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", accessToken, body)).BodyAsync(HttpStatusCode.Created);

    /// <summary>An <c>edge:sync</c> key minted by the bootstrap mod, as an edge operator would.</summary>
    private async Task<string> EdgeKeyAsync(Tokens? admin = null)
    {
        admin ??= await F.AdminAsync();
        return (string)(await CreateKeyAsync(admin.Access, new { name = "edge", scopes = new[] { EdgeApiKeyPaths.EdgeSyncScope }, environment = "live" }))["key"]!;
    }

    private Task<HttpResponseMessage> LookupAsync(string edgeKey, string digest) =>
        F.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Lookup, edgeKey, new { digest });

    private Task<HttpResponseMessage> ApiKeyAsync(HttpMethod method, string path, string accessToken, object? body = null) =>
        F.SendAsync(method, "/v1/api-keys" + path, accessToken, body);

    [SuiteFact]
    public async Task Api_key_is_created_listed_without_secret_looked_up_counted_and_revoked()
    {
        var admin = await F.AdminAsync();
        var adminId = Jwt(admin.Access).Subject;
        var created = await CreateKeyAsync(admin.Access, new { name = " ci ", scopes = new[] { "read:leads", "write:leads" }, environment = "live", project_id = "p1" });
        var id = (string)created["id"]!;
        var key = (string)created["key"]!;
        Assert.StartsWith("ak_", id);
        Assert.True(ApiKeyFormat.IsWellFormed(key, out var env) && env == ApiKeyEnvironment.Live);
        Assert.Equal(ApiKeyFormat.DisplayPrefix(key), (string?)created["prefix"]);
        Assert.Equal("ci", (string?)created["name"]);
        Assert.Equal(["read:leads", "write:leads"], created["scopes"]!.AsArray().Select(s => (string)s!));
        Assert.Equal("live", (string?)created["environment"]);
        Assert.Null(created["expires_at"]);
        Assert.NotNull(created["created_at"]);

        // Listed (and fetched) without the secret.
        var listResponse = await ApiKeyAsync(HttpMethod.Get, "", admin.Access);
        var listText = await listResponse.Content.ReadAsStringAsync();
        Assert.DoesNotContain(key, listText);
        Assert.DoesNotContain(key[ApiKeyFormat.PrefixLength..], listText);
        var listed = JsonNode.Parse(listText)!.AsArray().Single(k => (string?)k!["id"] == id)!;
        Assert.Null(listed["key"]);
        Assert.True((bool)listed["never_expires"]!);
        Assert.Equal("active", (string?)listed["status"]);
        Assert.Equal(0, (long)listed["use_count"]!);
        Assert.Null(listed["last_used_at"]);
        Assert.Null(listed["revoked_at"]);
        Assert.Equal(adminId, (string?)listed["created_by"]);
        Assert.Equal("p1", (string?)listed["project_id"]);
        var one = await (await ApiKeyAsync(HttpMethod.Get, "/" + id, admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(ApiKeyFormat.DisplayPrefix(key), (string?)one["prefix"]);
        Assert.Null(one["key"]);

        // An edge looks it up by digest with its own edge:sync key.
        var edge = await EdgeKeyAsync(admin);
        var record = await (await LookupAsync(edge, DigestOf(key))).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(id, (string?)record["id"]);
        Assert.Equal(Jwt(admin.Access).GetPayloadValue<string>(ClaimNames.Org), (string?)record["org_id"]);
        Assert.Equal(["read:leads", "write:leads"], record["scopes"]!.AsArray().Select(s => (string)s!));
        Assert.Equal("live", (string?)record["environment"]);
        Assert.Null(record["expires_at"]);
        Assert.False((bool)record["revoked"]!);
        await (await LookupAsync(edge, DigestOf(ApiKeyFormat.Generate(ApiKeyEnvironment.Live)))).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await LookupAsync(edge, "not-a-digest")).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);

        // Usage reports add up and keep the latest use; unknown ids are ignored.
        var firstUse = F.Time.GetUtcNow().AddMinutes(-1);
        await (await F.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Usage, edge, new
        {
            keys = new object[] { new { id, count = 5, last_used_at = firstUse }, new { id = "ak_unknown", count = 3, last_used_at = firstUse } },
        })).BodyAsync(HttpStatusCode.NoContent);
        await (await F.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Usage, edge, new
        {
            keys = new object[] { new { id, count = 2, last_used_at = firstUse.AddMinutes(-5) } },
        })).BodyAsync(HttpStatusCode.NoContent);
        await (await F.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Usage, edge, new { keys = new object[] { new { id, count = -1, last_used_at = firstUse } } }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        one = await (await ApiKeyAsync(HttpMethod.Get, "/" + id, admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(7, (long)one["use_count"]!);
        Assert.Equal(firstUse.ToUnixTimeMilliseconds(), ((DateTimeOffset)one["last_used_at"]!).ToUnixTimeMilliseconds());

        // Revocation: the listing says so, the edge learns it, and an api_key revocation is recorded for edge sync.
        await (await ApiKeyAsync(HttpMethod.Delete, "/" + id, admin.Access)).BodyAsync(HttpStatusCode.NoContent);
        one = await (await ApiKeyAsync(HttpMethod.Get, "/" + id, admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("revoked", (string?)one["status"]);
        Assert.NotNull(one["revoked_at"]);
        record = await (await LookupAsync(edge, DigestOf(key))).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)record["revoked"]!);
        Assert.Equal(id, (string?)record["id"]);
        await (await ApiKeyAsync(HttpMethod.Delete, "/" + id, admin.Access)).BodyAsync(HttpStatusCode.NoContent);
        Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM revocations WHERE kind = 'api_key' AND value = @id", new { id }));
        Assert.Equal(DateTimeOffset.MaxValue.ToUnixTimeMilliseconds(),
            await F.InspectAsync<long>("SELECT expires_at FROM revocations WHERE kind = 'api_key' AND value = @id", new { id }));
        Assert.True(await F.InspectAsync<long>("SELECT seq FROM revocations WHERE kind = 'api_key' AND value = @id", new { id }) > 0);

        var page = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?limit=500", admin.Access)).BodyAsync(HttpStatusCode.OK);
        var events = page["items"]!.AsArray().Where(e => (string?)e!["details"]?["key_id"] == id).Select(e => (string)e!["event"]!).ToList();
        Assert.Single(events, e => e == "api_key_created");
        Assert.Single(events, e => e == "api_key_revoked");
        Assert.Contains("api_key_used_after_revoke", events);
        Assert.True((bool)(await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/verify", admin.Access)).BodyAsync(HttpStatusCode.OK))["ok"]!);
    }

    [SuiteFact]
    public async Task Rotation_keeps_the_old_secret_valid_for_the_grace_period_only()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var created = await CreateKeyAsync(admin.Access, new { name = "rotating", scopes = new[] { "read:reviews" }, environment = "test" });
        var id = (string)created["id"]!;
        var first = (string)created["key"]!;

        var rotated = await (await ApiKeyAsync(HttpMethod.Post, $"/{id}/rotate", admin.Access, new { grace_period_seconds = 3600 })).BodyAsync(HttpStatusCode.Created);
        var second = (string)rotated["key"]!;
        Assert.NotEqual(first, second);
        Assert.Equal(id, (string?)rotated["id"]);
        Assert.True(ApiKeyFormat.IsWellFormed(second, out var env) && env == ApiKeyEnvironment.Test);
        Assert.Equal(["read:reviews"], rotated["scopes"]!.AsArray().Select(s => (string)s!));
        Assert.Equal(ApiKeyFormat.DisplayPrefix(second),
            (string?)(await (await ApiKeyAsync(HttpMethod.Get, "/" + id, admin.Access)).BodyAsync(HttpStatusCode.OK))["prefix"]);

        // Within the grace both secrets resolve to the same key.
        F.Time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(id, (string?)(await (await LookupAsync(edge, DigestOf(first))).BodyAsync(HttpStatusCode.OK))["id"]);
        Assert.Equal(id, (string?)(await (await LookupAsync(edge, DigestOf(second))).BodyAsync(HttpStatusCode.OK))["id"]);
        // After it, the old one is unknown.
        F.Time.Advance(TimeSpan.FromMinutes(2));
        await (await LookupAsync(edge, DigestOf(first))).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        Assert.Equal(id, (string?)(await (await LookupAsync(edge, DigestOf(second))).BodyAsync(HttpStatusCode.OK))["id"]);

        // Without a body the grace is 0: the previous secret stops at once.
        admin = await F.AdminAsync();
        var third = (string)(await (await ApiKeyAsync(HttpMethod.Post, $"/{id}/rotate", admin.Access)).BodyAsync(HttpStatusCode.Created))["key"]!;
        await (await LookupAsync(edge, DigestOf(second))).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        Assert.Equal(id, (string?)(await (await LookupAsync(edge, DigestOf(third))).BodyAsync(HttpStatusCode.OK))["id"]);

        var tooLong = await (await ApiKeyAsync(HttpMethod.Post, $"/{id}/rotate", admin.Access, new { grace_period_seconds = 8 * 24 * 3600 }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.NotNull(tooLong["errors"]!["grace_period_seconds"]);
        await (await ApiKeyAsync(HttpMethod.Post, "/ak_missing/rotate", admin.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);

        // Revoking during a grace window stops every secret of the key; a revoked key cannot be rotated.
        var fourth = (string)(await (await ApiKeyAsync(HttpMethod.Post, $"/{id}/rotate", admin.Access, new { grace_period_seconds = 600 })).BodyAsync(HttpStatusCode.Created))["key"]!;
        await (await ApiKeyAsync(HttpMethod.Delete, "/" + id, admin.Access)).BodyAsync(HttpStatusCode.NoContent);
        Assert.True((bool)(await (await LookupAsync(edge, DigestOf(third))).BodyAsync(HttpStatusCode.OK))["revoked"]!);
        Assert.True((bool)(await (await LookupAsync(edge, DigestOf(fourth))).BodyAsync(HttpStatusCode.OK))["revoked"]!);
        await (await ApiKeyAsync(HttpMethod.Post, $"/{id}/rotate", admin.Access)).ProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        Assert.True((await AuditEventsAsync(admin.Access, "event=api_key_rotated")).Count >= 3);
    }

    [SuiteFact]
    public async Task Concurrent_rotations_leave_exactly_one_valid_secret()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var created = await ApiKeyAsync(HttpMethod.Post, "", admin.Access, new { name = "raced", scopes = new[] { "read:leads" }, environment = "live" });
        Assert.Equal("no-store", created.Headers.CacheControl?.ToString());
        var body = await created.BodyAsync(HttpStatusCode.Created);
        var id = (string)body["id"]!;
        var keys = new List<string> { (string)body["key"]! };
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => ApiKeyAsync(HttpMethod.Post, $"/{id}/rotate", admin.Access)));
        foreach (var r in responses)
        {
            keys.Add((string)(await r.BodyAsync(HttpStatusCode.Created))["key"]!);
        }

        var valid = 0;
        foreach (var k in keys)
        {
            if ((await LookupAsync(edge, DigestOf(k))).StatusCode == HttpStatusCode.OK)
            {
                valid++;
            }
        }

        Assert.Equal(1, valid);
    }

    [SuiteFact]
    public async Task Expired_keys_are_reported_and_invalid_input_is_refused()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var expiresAt = F.Time.GetUtcNow().AddHours(1);
        var created = await CreateKeyAsync(admin.Access, new { name = "short-lived", scopes = new[] { "read:campaigns" }, environment = "live", expires_at = expiresAt });
        var id = (string)created["id"]!;
        var key = (string)created["key"]!;
        Assert.Equal(expiresAt.ToUnixTimeMilliseconds(), ((DateTimeOffset)created["expires_at"]!).ToUnixTimeMilliseconds());
        var shortEdge = (string)(await CreateKeyAsync(admin.Access,
            new { name = "short edge", scopes = new[] { EdgeApiKeyPaths.EdgeSyncScope }, environment = "live", expires_at = expiresAt }))["key"]!;
        await (await LookupAsync(shortEdge, DigestOf(key))).BodyAsync(HttpStatusCode.OK);

        F.Time.Advance(TimeSpan.FromHours(2));
        admin = await F.AdminAsync();
        var view = await (await ApiKeyAsync(HttpMethod.Get, "/" + id, admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("expired", (string?)view["status"]);
        Assert.False((bool)view["never_expires"]!);
        // The edge is told the expiry (it enforces it); the first sighting is audited once.
        var record = await (await LookupAsync(edge, DigestOf(key))).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(expiresAt.ToUnixTimeMilliseconds(), ((DateTimeOffset)record["expires_at"]!).ToUnixTimeMilliseconds());
        Assert.False((bool)record["revoked"]!);
        await (await LookupAsync(edge, DigestOf(key))).BodyAsync(HttpStatusCode.OK);
        var expired = await AuditEventsAsync(admin.Access, "event=api_key_expired");
        // One for the looked-up key, one for the expired edge key presented below.
        await (await LookupAsync(shortEdge, DigestOf(key))).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await LookupAsync(shortEdge, DigestOf(key))).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.Equal(expired.Count + 1, (await AuditEventsAsync(admin.Access, "event=api_key_expired")).Count);
        await (await ApiKeyAsync(HttpMethod.Post, $"/{id}/rotate", admin.Access)).ProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);

        var bad = await (await ApiKeyAsync(HttpMethod.Post, "", admin.Access, new
        {
            name = "  ", scopes = new[] { "read:leads", "nope:nothing" }, environment = "prod", expires_at = F.Time.GetUtcNow().AddMinutes(-1),
        })).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        foreach (var field in new[] { "name", "scopes", "environment", "expires_at" })
        {
            Assert.NotNull(bad["errors"]![field]);
        }

        Assert.Contains("nope:nothing", bad["errors"]!["scopes"]!.ToJsonString());
        var none = await (await ApiKeyAsync(HttpMethod.Post, "", admin.Access, new { name = "x", scopes = Array.Empty<string>(), environment = "live" }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.NotNull(none["errors"]!["scopes"]);
        await (await ApiKeyAsync(HttpMethod.Post, "", admin.Access, new { name = "x", scopes = new[] { "read:leads" } }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }

    [SuiteFact]
    public async Task Callers_can_only_grant_scopes_they_hold()
    {
        var admin = await F.AdminAsync();
        var (_, creatorEmail) = await F.CreateUserAsync("create", admin);
        var creator = await F.LoginOkAsync(creatorEmail, ControlPlaneFixture.DefaultPassword);
        var (_, explorerEmail) = await F.CreateUserAsync("explore", admin);
        var explorer = await F.LoginOkAsync(explorerEmail, ControlPlaneFixture.DefaultPassword);

        var denied = await (await ApiKeyAsync(HttpMethod.Post, "", creator.Access, new { name = "k", scopes = new[] { "read:leads", "admin" }, environment = "live" }))
            .ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        Assert.Contains("admin", (string?)denied["detail"]);
        await (await ApiKeyAsync(HttpMethod.Post, "", creator.Access, new { name = "k", scopes = new[] { EdgeApiKeyPaths.EdgeSyncScope }, environment = "live" }))
            .ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await CreateKeyAsync(creator.Access, new { name = "k", scopes = new[] { "read:leads", "write:leads" }, environment = "live" });

        await (await ApiKeyAsync(HttpMethod.Post, "", explorer.Access, new { name = "k", scopes = new[] { "write:applications" }, environment = "test" }))
            .ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        var own = await CreateKeyAsync(explorer.Access, new { name = "k", scopes = new[] { "read:applications" }, environment = "test" });

        // Only the creator or a mod revokes or rotates.
        var adminKey = await CreateKeyAsync(admin.Access, new { name = "mod's", scopes = new[] { "read:leads" }, environment = "live" });
        await (await ApiKeyAsync(HttpMethod.Delete, "/" + (string)adminKey["id"]!, explorer.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await ApiKeyAsync(HttpMethod.Post, $"/{(string)adminKey["id"]!}/rotate", explorer.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await ApiKeyAsync(HttpMethod.Post, $"/{(string)own["id"]!}/rotate", explorer.Access)).BodyAsync(HttpStatusCode.Created);
        await (await ApiKeyAsync(HttpMethod.Delete, "/" + (string)own["id"]!, explorer.Access)).BodyAsync(HttpStatusCode.NoContent);

        // Rotating re-issues the key's scopes, so a creator demoted to explore can no longer rotate a write key.
        var writeKey = await CreateKeyAsync(creator.Access, new { name = "w", scopes = new[] { "write:reviews" }, environment = "live" });
        var creatorId = Jwt(creator.Access).Subject;
        await (await F.SendAsync(HttpMethod.Put, $"/v1/users/{creatorId}/role", admin.Access, new { role = "explore" })).BodyAsync(HttpStatusCode.OK);
        var demoted = await F.LoginOkAsync(creatorEmail, ControlPlaneFixture.DefaultPassword);
        await (await ApiKeyAsync(HttpMethod.Post, $"/{(string)writeKey["id"]!}/rotate", demoted.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    [SuiteFact]
    public async Task Edge_endpoints_need_a_live_key_with_edge_sync()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var target = (string)(await CreateKeyAsync(admin.Access, new { name = "t", scopes = new[] { "read:leads" }, environment = "live" }))["key"]!;
        var digest = DigestOf(target);
        var usage = new { keys = Array.Empty<object>() };

        await (await F.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Lookup, null, new { digest })).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        foreach (var bearer in new[] { "garbage", ApiKeyFormat.Generate(ApiKeyEnvironment.Live), admin.Access, edge[..^1] + (edge[^1] == 'a' ? 'b' : 'a') })
        {
            await (await LookupAsync(bearer, digest)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
            await (await F.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Usage, bearer, usage)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        }
        // A valid key without edge:sync is authenticated but not allowed.
        var forbidden = await (await LookupAsync(target, digest)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        Assert.Contains(EdgeApiKeyPaths.EdgeSyncScope, (string?)forbidden["detail"]);
        await (await F.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Usage, target, usage)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        // An edge key does not reach the admin API (access tokens only).
        await (await ApiKeyAsync(HttpMethod.Get, "", edge)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);

        await (await LookupAsync(edge, digest)).BodyAsync(HttpStatusCode.OK);
        await (await F.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Usage, edge, usage)).BodyAsync(HttpStatusCode.NoContent);
        // A revoked edge key stops at once.
        var edgeId = (await (await ApiKeyAsync(HttpMethod.Get, "", admin.Access)).BodyAsync(HttpStatusCode.OK)).AsArray()
            .Single(k => (string?)k!["prefix"] == ApiKeyFormat.DisplayPrefix(edge))!["id"]!.ToString();
        await (await ApiKeyAsync(HttpMethod.Delete, "/" + edgeId, admin.Access)).BodyAsync(HttpStatusCode.NoContent);
        await (await LookupAsync(edge, digest)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        // Hammering with a revoked key is audited once per minute, not once per request.
        for (var i = 0; i < 5; i++)
        {
            await (await LookupAsync(edge, digest)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        }

        Assert.Equal(1L, await F.InspectAsync<long>(
            "SELECT COUNT(*) FROM audit_events WHERE event = 'api_key_used_after_revoke' AND details LIKE @k", new { k = $"%{edgeId}%" }));
        F.Time.Advance(TimeSpan.FromMinutes(1));
        await (await LookupAsync(edge, digest)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.Equal(2L, await F.InspectAsync<long>(
            "SELECT COUNT(*) FROM audit_events WHERE event = 'api_key_used_after_revoke' AND details LIKE @k", new { k = $"%{edgeId}%" }));
    }

    [SuiteFact]
    public async Task Another_orgs_keys_are_not_found_and_org_scopes_stay_in_their_org()
    {
        var adminA = await F.AdminAsync();
        var (_, founderEmail) = await F.CreateUserAsync("mod", adminA);
        var founderA = await F.LoginOkAsync(founderEmail, ControlPlaneFixture.DefaultPassword);
        var orgB = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", founderA.Access, new { name = "Keys B" })).BodyAsync(HttpStatusCode.Created))["id"]!;
        var founderB = await F.LoginOkAsync(founderEmail, ControlPlaneFixture.DefaultPassword, orgB);

        // Org B adds its own scope; a B explorer can grant it (read:* covers it), org A does not know it.
        var (_, bExplorerEmail) = await F.CreateUserAsync("explore", founderB);
        var bExplorer = await F.LoginOkAsync(bExplorerEmail, ControlPlaneFixture.DefaultPassword);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-key-scopes", bExplorer.Access, new { name = "read:invoices" })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        var scope = await (await F.SendAsync(HttpMethod.Post, "/v1/api-key-scopes", founderB.Access, new { name = "read:invoices", description = "Invoices" }))
            .BodyAsync(HttpStatusCode.Created);
        Assert.False((bool)scope["built_in"]!);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-key-scopes", founderB.Access, new { name = "read:invoices" })).ProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-key-scopes", founderB.Access, new { name = "read:leads" })).ProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-key-scopes", founderB.Access, new { name = "Invoices!" })).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-key-scopes", founderB.Access, new { name = "read:*" })).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var scopesB = await (await F.SendAsync(HttpMethod.Get, "/v1/api-key-scopes", bExplorer.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Contains(scopesB.AsArray(), s => (string?)s!["name"] == "read:invoices");
        foreach (var builtIn in new[] { "read:applications", "write:applications", "read:reviews", "write:reviews", "read:campaigns", "write:campaigns",
                     "read:leads", "write:leads", "read:contracts", "write:contracts", "admin", "edge:sync" })
        {
            Assert.True((bool)scopesB.AsArray().Single(s => (string?)s!["name"] == builtIn)!["built_in"]!);
        }

        var scopesA = await (await F.SendAsync(HttpMethod.Get, "/v1/api-key-scopes", adminA.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(scopesA.AsArray(), s => (string?)s!["name"] == "read:invoices");
        await (await ApiKeyAsync(HttpMethod.Post, "", adminA.Access, new { name = "x", scopes = new[] { "read:invoices" }, environment = "live" }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);

        var bKey = await CreateKeyAsync(bExplorer.Access, new { name = "invoices", scopes = new[] { "read:invoices", "read:leads" }, environment = "live" });
        var bId = (string)bKey["id"]!;
        Assert.Contains("api_key_scope_created", await AuditEventsAsync(founderB.Access, "event=api_key_scope_created"));

        // Org A's mod sees none of it.
        await (await ApiKeyAsync(HttpMethod.Get, "/" + bId, adminA.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await ApiKeyAsync(HttpMethod.Delete, "/" + bId, adminA.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await ApiKeyAsync(HttpMethod.Post, $"/{bId}/rotate", adminA.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        Assert.DoesNotContain((await (await ApiKeyAsync(HttpMethod.Get, "", adminA.Access)).BodyAsync(HttpStatusCode.OK)).AsArray(), k => (string?)k!["id"] == bId);

        // An edge serves every org: org A's edge key finds org B's key, with B's org and custom scope, and reports its usage.
        var edge = await EdgeKeyAsync(adminA);
        var record = await (await LookupAsync(edge, DigestOf((string)bKey["key"]!))).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(orgB, (string?)record["org_id"]);
        Assert.Equal(["read:invoices", "read:leads"], record["scopes"]!.AsArray().Select(s => (string)s!));
        await (await F.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Usage, edge, new { keys = new object[] { new { id = bId, count = 4, last_used_at = F.Time.GetUtcNow() } } }))
            .BodyAsync(HttpStatusCode.NoContent);
        Assert.Equal(4, (long)(await (await ApiKeyAsync(HttpMethod.Get, "/" + bId, founderB.Access)).BodyAsync(HttpStatusCode.OK))["use_count"]!);
    }

    [SuiteFact]
    public async Task Api_key_secrets_appear_in_no_log_line_audit_record_or_column()
    {
        var admin = await F.AdminAsync();
        var secrets = new List<string>();
        var edge = await EdgeKeyAsync(admin);
        secrets.Add(edge);
        var created = await CreateKeyAsync(admin.Access, new { name = "secret-check", scopes = new[] { "read:contracts", "write:contracts" }, environment = "live" });
        var id = (string)created["id"]!;
        secrets.Add((string)created["key"]!);
        var rotated = await (await ApiKeyAsync(HttpMethod.Post, $"/{id}/rotate", admin.Access, new { grace_period_seconds = 60 })).BodyAsync(HttpStatusCode.Created);
        secrets.Add((string)rotated["key"]!);
        var noEdge = (string)(await CreateKeyAsync(admin.Access, new { name = "no-edge", scopes = new[] { "read:contracts" }, environment = "test" }))["key"]!;
        secrets.Add(noEdge);
        // Present every secret everywhere a secret can arrive, including failures.
        foreach (var s in secrets)
        {
            await LookupAsync(edge, DigestOf(s));
            await LookupAsync(s, DigestOf(s));
            await F.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Usage, s, new { keys = new object[] { new { id, count = 1, last_used_at = F.Time.GetUtcNow() } } });
            await ApiKeyAsync(HttpMethod.Get, "", s);
        }
        await ApiKeyAsync(HttpMethod.Delete, "/" + id, admin.Access);
        await LookupAsync(edge, DigestOf(secrets[2]));

        // The random part alone must not leak either (the display prefix shows only its first 4 characters).
        var needles = secrets.SelectMany(s => new[] { s, s[ApiKeyFormat.PrefixLength..] }).ToList();

        Assert.NotEmpty(F.Logs.Lines);
        Assert.Contains(F.Logs.Lines, l => l.Contains(id, StringComparison.Ordinal));
        foreach (var line in F.Logs.Lines)
        {
            foreach (var n in needles)
            {
                Assert.False(line.Contains(n, StringComparison.Ordinal), "a log line contains an API key secret: " + line);
            }
        }

        var export = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/export", admin.Access)).Content.ReadAsStringAsync();
        Assert.Contains("api_key_rotated", export);
        foreach (var n in needles)
        {
            Assert.DoesNotContain(n, export);
        }

        await using var c = await F.OpenInspectorAsync();
        var tables = F is PostgresFixture
            ? await c.QueryAsync<string>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            : await c.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table'");
        var digestsFound = 0;
        foreach (var table in tables)
        {
            foreach (IDictionary<string, object?> row in await c.QueryAsync($"SELECT * FROM {table}"))
            {
                foreach (var (column, value) in row)
                {
                    if (value is not string text)
                    {
                        continue;
                    }

                    foreach (var n in needles)
                    {
                        Assert.False(text.Contains(n, StringComparison.Ordinal), $"{table}.{column} contains an API key secret");
                    }

                    if (secrets.Any(s => text == DigestOf(s)))
                    {
                        digestsFound++;
                    }
                }
            }
        }
        // Sanity: the scan does see the stored digests.
        Assert.Equal(secrets.Count, digestsFound);
    }
}
