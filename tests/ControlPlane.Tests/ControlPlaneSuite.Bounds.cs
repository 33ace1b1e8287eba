using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Hosting;
using Authio.Shared.Errors;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

/// <summary>Every setting bounded; the OpenAPI document describes bodies, bounds and error codes.</summary>
public abstract partial class ControlPlaneSuite
{
    /// <summary>A fresh org with its own mod (not the bootstrap admin, who must stay in one org).</summary>
    private async Task<(string OrgId, Tokens Mod)> OwnOrgAsync()
    {
        var (_, email) = await F.CreateUserAsync("mod");
        var first = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var org = await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", first.Access, new { name = "bounds-" + Guid.NewGuid().ToString("N")[..8] }))
            .BodyAsync(HttpStatusCode.Created);
        var orgId = (string)org["id"]!;
        return (orgId, await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgId));
    }

    private async Task<HttpResponseMessage> PatchOrgRawAsync(string access, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, "/v1/org") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", access);
        return await F.Http.SendAsync(request);
    }

    [SuiteFact]
    public async Task Out_of_range_org_settings_are_refused_naming_the_field_and_nothing_is_written()
    {
        var (_, mod) = await OwnOrgAsync();
        var before = (await (await F.SendAsync(HttpMethod.Get, "/v1/org", mod.Access)).BodyAsync(HttpStatusCode.OK)).ToJsonString();
        (string Field, string Value)[] refused =
        [
            ("audit_retention_days", "4294967296"), ("audit_retention_days", "1000000"), ("audit_retention_days", "6"),
            ("audit_retention_days", "0"), ("audit_retention_days", "3651"), ("audit_retention_days", "-1"),
            ("idle_timeout_seconds", "9223372036854775807"), ("idle_timeout_seconds", "59"), ("idle_timeout_seconds", "2592001"),
            ("access_token_ttl_seconds", "9223372036854775807"), ("access_token_ttl_seconds", "3601"), ("access_token_ttl_seconds", "-9223372036854775808"),
            ("audit_retention_days", "\"90\""), ("idle_timeout_seconds", "1.5"), ("access_token_ttl_seconds", "true"),
        ];
        foreach (var (field, value) in refused)
        {
            var problem = await (await PatchOrgRawAsync(mod.Access, $"{{\"{field}\":{value}}}")).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
            Assert.Equal(ProblemTypes.For(ErrorCodes.ValidationFailed), (string?)problem["type"]);
            Assert.True(problem["errors"]?[field] is not null, $"{field}={value}: {problem.ToJsonString()}");
        }
        // A valid field next to an invalid one is not written either.
        await (await PatchOrgRawAsync(mod.Access, "{\"access_token_ttl_seconds\":300,\"audit_retention_days\":4294967296}"))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Equal(before, (await (await F.SendAsync(HttpMethod.Get, "/v1/org", mod.Access)).BodyAsync(HttpStatusCode.OK)).ToJsonString());

        // The bounds themselves are accepted.
        var low = await (await PatchOrgRawAsync(mod.Access, "{\"audit_retention_days\":7,\"idle_timeout_seconds\":60,\"access_token_ttl_seconds\":60}")).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(7, (long)low["audit_retention_days"]!);
        var high = await (await PatchOrgRawAsync(mod.Access, "{\"audit_retention_days\":3650,\"idle_timeout_seconds\":2592000,\"access_token_ttl_seconds\":3600}")).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(3650, (long)high["audit_retention_days"]!);
        Assert.Equal(2592000, (long)high["idle_timeout_seconds"]!);
    }

    [SuiteFact]
    public async Task Stored_out_of_range_settings_are_clamped_and_one_orgs_bad_row_does_not_stop_maintenance_for_others()
    {
        var (orgA, modA) = await OwnOrgAsync();
        var (orgB, _) = await OwnOrgAsync();
        // Values written before the bounds existed (the old API accepted them).
        await F.ExecuteAsync("UPDATE orgs SET audit_retention_days = 4294967296, idle_timeout_seconds = 9223372036854775807, access_ttl_seconds = 9223372036854775807 WHERE id = @orgA", new { orgA });
        var org = await (await F.SendAsync(HttpMethod.Get, "/v1/org", modA.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(3650, (long)org["audit_retention_days"]!);
        Assert.Equal(2592000, (long)org["idle_timeout_seconds"]!);
        Assert.Equal(3600, (long)org["access_token_ttl_seconds"]!);
        // Refresh used to overflow TimeSpan (500); now the clamped idle timeout applies.
        await (await F.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = modA.Refresh })).BodyAsync(HttpStatusCode.OK);

        var eventsA = await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgA", new { orgA });
        Assert.True(eventsA > 0);
        // Org B's and org C's events are all past their (minimum) retention; deleting C's fails (a trigger stands in for
        // whatever can go wrong with one org's data). B must be pruned all the same.
        var (orgC, _) = await OwnOrgAsync();
        await F.ExecuteAsync("UPDATE orgs SET audit_retention_days = 7 WHERE id IN (@orgB, @orgC)", new { orgB, orgC });
        // Time passes rather than rewriting timestamps: the keyed chain would (rightly) refuse to cut tampered rows.
        F.Time.Advance(TimeSpan.FromDays(8));
        // Only what was there before counts: the round itself audits (e.g. key transitions) into the orgs' chains.
        var before = F.Time.GetUtcNow().AddDays(-7).ToUnixTimeMilliseconds();
        var eventsC = await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgC", new { orgC });
        bool sqlite;
        await using (var c = await F.OpenInspectorAsync())
        {
            sqlite = c is SqliteConnection;
        }

        if (sqlite)
        {
            await F.ExecuteAsync($"CREATE TRIGGER test_fail_c BEFORE DELETE ON audit_events WHEN OLD.org_id = '{orgC}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
        }
        else
        {
            await F.ExecuteAsync("CREATE OR REPLACE FUNCTION test_fail_c() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$");
            await F.ExecuteAsync($"CREATE TRIGGER test_fail_c BEFORE DELETE ON audit_events FOR EACH ROW WHEN (OLD.org_id = '{orgC}') EXECUTE FUNCTION test_fail_c()");
        }
        try
        {
            var maintenance = F.Services.GetRequiredService<MaintenanceService>();
            // The round completes; org C's failure is logged as an error naming the org.
            await maintenance.RunOnceAsync(CancellationToken.None);
            Assert.Contains(F.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("[1960]", StringComparison.Ordinal)
                && l.Contains(orgC, StringComparison.Ordinal));
            Assert.Equal(0, await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgB AND ts < @before", new { orgB, before }));
            Assert.Equal(eventsC, await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgC AND ts < @before", new { orgC, before }));
            // A's trail is intact: 4294967296 used to wrap to 0 days and delete it all.
            Assert.Equal(eventsA, await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgA AND ts < @before", new { orgA, before }));
        }
        finally
        {
            await F.ExecuteAsync(sqlite ? "DROP TRIGGER test_fail_c" : "DROP TRIGGER test_fail_c ON audit_events");
            if (!sqlite)
            {
                await F.ExecuteAsync("DROP FUNCTION test_fail_c()");
            }
        }
        await F.Services.GetRequiredService<MaintenanceService>().RunOnceAsync(CancellationToken.None);
    }

    [SuiteFact]
    public async Task Bodies_over_the_limit_and_malformed_json_are_4xx_problems()
    {
        var admin = await F.AdminAsync();
        using (var big = new HttpRequestMessage(HttpMethod.Post, "/v1/teams") { Content = new ByteArrayContent(new byte[10 * 1024 * 1024]) })
        {
            big.Headers.Authorization = new("Bearer", admin.Access);
            big.Content.Headers.ContentType = new("application/json");
            var problem = await (await F.Http.SendAsync(big)).ProblemAsync(HttpStatusCode.RequestEntityTooLarge, ErrorCodes.PayloadTooLarge);
            Assert.Equal(ProblemTypes.For(ErrorCodes.PayloadTooLarge), (string?)problem["type"]);
        }
        foreach (var json in new[] { "{\"name\":", "{\"name\":12}", new string('[', 10_000) + new string(']', 10_000), "null" })
        {
            using var r = new HttpRequestMessage(HttpMethod.Post, "/v1/teams") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            r.Headers.Authorization = new("Bearer", admin.Access);
            await (await F.Http.SendAsync(r)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        }
        var tooLong = await (await F.SendAsync(HttpMethod.Post, "/v1/teams", admin.Access, new { name = new string('t', 101) }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.NotNull(tooLong["errors"]!["name"]);
        // Unknown fields are ignored (documented), so a newer client's extra field does not break an older control plane.
        var team = await (await F.SendAsync(HttpMethod.Post, "/v1/teams", admin.Access, new { name = "t-" + Guid.NewGuid().ToString("N")[..6], colour = "blue" }))
            .BodyAsync(HttpStatusCode.Created);
        await (await F.SendAsync(HttpMethod.Delete, "/v1/teams/" + (string)team["id"]!, admin.Access)).BodyAsync(HttpStatusCode.NoContent);
        // Query values are bounded too.
        var limit = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?limit=9223372036854775807", admin.Access)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var over = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?limit=501", admin.Access)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.NotNull(over["errors"]!["limit"]);
        Assert.NotNull(limit);
    }

    [SuiteFact]
    public async Task Control_plane_problems_use_the_shared_type_vocabulary()
    {
        var admin = await F.AdminAsync();
        var notFound = await (await F.SendAsync(HttpMethod.Get, "/v1/users/usr_nobody", admin.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        Assert.Equal("urn:authio:problem:not_found", (string?)notFound["type"]);
        var unauthorized = await (await F.SendAsync(HttpMethod.Get, "/v1/users", null)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.Equal(ProblemTypes.For(ErrorCodes.Unauthorized), (string?)unauthorized["type"]);
        // The 423 had no type at all.
        var (_, email) = await F.CreateUserAsync(admin: admin);
        HttpResponseMessage? locked = null;
        for (var i = 0; i < 10 && locked?.StatusCode != HttpStatusCode.Locked; i++)
        {
            locked = await F.LoginAsync(email, "Wrong!pass1");
        }

        var problem = await locked!.ProblemAsync(HttpStatusCode.Locked, ErrorCodes.AccountLocked);
        Assert.Equal(ProblemTypes.For(ErrorCodes.AccountLocked), (string?)problem["type"]);
    }

    [SuiteFact]
    public async Task OpenAPI_document_describes_bodies_bounds_forms_and_error_codes()
    {
        var doc = JsonNode.Parse(await (await F.Http.GetAsync("/openapi/v1.json")).Content.ReadAsStringAsync())!;
        var schemas = doc["components"]!["schemas"]!;
        JsonNode Schema(JsonNode? s) => s?["$ref"] is { } r ? schemas[((string)r!).Split('/')[^1]]! : s!;

        var patch = doc["paths"]!["/v1/org"]!["patch"]!;
        var settings = Schema(patch["requestBody"]!["content"]!["application/json"]!["schema"]);
        Assert.Null(settings["required"]); // every field optional
        Assert.Equal(7, (int)settings["properties"]!["audit_retention_days"]!["minimum"]!);
        Assert.Equal(3650, (int)settings["properties"]!["audit_retention_days"]!["maximum"]!);
        Assert.Equal(3600, (long)settings["properties"]!["access_token_ttl_seconds"]!["maximum"]!);
        var ok = Schema(patch["responses"]!["200"]!["content"]!["application/json"]!["schema"]);
        Assert.NotNull(ok["properties"]!["audit_retention_days"]);
        var bad = patch["responses"]!["400"]!;
        Assert.Equal("validation_failed", (string?)bad["x-codes"]![0]);
        Assert.NotNull(bad["content"]!["application/problem+json"]);
        Assert.Equal("forbidden", (string?)patch["responses"]!["403"]!["x-codes"]![0]);
        Assert.Equal("payload_too_large", (string?)patch["responses"]!["413"]!["x-codes"]![0]);

        foreach (var path in new[] { "/oauth/revoke", "/oauth/introspect" })
        {
            var form = Schema(doc["paths"]![path]!["post"]!["requestBody"]!["content"]!["application/x-www-form-urlencoded"]!["schema"]);
            Assert.Equal("token", (string?)form["required"]![0]);
            Assert.NotNull(form["properties"]!["token"]!["maxLength"]);
            Assert.NotNull(form["properties"]!["token_type_hint"]);
        }
        Assert.Equal("account_locked", (string?)doc["paths"]!["/v1/auth/login"]!["post"]!["responses"]!["423"]!["x-codes"]![0]);

        // Every success response with a body names its schema; no bare "OK" except bodiless answers.
        foreach (var (path, item) in doc["paths"]!.AsObject())
        {
            foreach (var (method, op) in item!.AsObject())
            {
                var responses = op!["responses"]!.AsObject();
                Assert.Contains(responses, r => r.Key.StartsWith('2'));
                foreach (var (status, response) in responses)
                {
                    if (status.StartsWith('4'))
                    {
                        Assert.True(response!["x-codes"] is JsonArray { Count: > 0 }, $"{method} {path} {status} lists no codes");
                    }
                }
            }
        }
    }
}
