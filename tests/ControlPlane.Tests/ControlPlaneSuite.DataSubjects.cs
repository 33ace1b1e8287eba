using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Authio.Shared.Errors;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// Data-subject requests: an export holds every record about a person and nothing about anyone else, and is handed out
/// once; an erasure leaves no trace of the person in any column of any table, yet the org's audit chain still verifies
/// (online and offline), and another org can neither export nor erase the person.
/// </summary>
public abstract partial class ControlPlaneSuite
{
    /// <summary>
    /// A fresh org with a mod, and in it a person (a mod too, so they act on others) who leaves traces everywhere: two
    /// sign-ins from their own address and browser, a failed one, an API key, a webhook (with deliveries naming them), a
    /// team, a user they created, a logout-all; plus a bystander with their own sign-in.
    /// </summary>
    private async Task<DataSubjectScene> DataSubjectSceneAsync()
    {
        var (orgId, mod) = await AuditOrgAsync();
        var person = await CreateOrgUserAsync(mod.Access, "mod");
        var personId = await UserIdAsync(mod, person);
        var address = $"127.{Random.Shared.Next(200, 250)}.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}";
        var agent = $"PersonalBrowser-{Guid.NewGuid():N}/1.0";
        using (var http = ClientFrom(address, agent))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsJsonAsync("/v1/auth/login", new { email = person, password = "wrong-password-1", org_id = orgId })).StatusCode);
        }

        var personTokens = await SignInAsAsync(address, agent, person, orgId);
        await SignInAsAsync(address, agent, person, orgId);
        await (await F.SendAsync(HttpMethod.Post, "/v1/webhooks", personTokens.Access, new { url = "http://127.0.0.1:9/hook", events = new[] { "*" } }))
            .BodyAsync(HttpStatusCode.Created);
        var key = await CreateKeyAsync(personTokens.Access, new { name = "build bot", scopes = new[] { "read:leads" }, environment = "test" });
        var bystander = await CreateOrgUserAsync(personTokens.Access);
        var bystanderId = await UserIdAsync(mod, bystander);
        await F.LoginOkAsync(bystander, ControlPlaneFixture.DefaultPassword, orgId);
        var team = await (await F.SendAsync(HttpMethod.Post, "/v1/teams", mod.Access, new { name = "Team " + Guid.NewGuid().ToString("N")[..6] })).BodyAsync(HttpStatusCode.Created);
        await (await F.SendAsync(HttpMethod.Put, $"/v1/teams/{team["id"]}/members/{personId}", mod.Access)).BodyAsync(HttpStatusCode.OK);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{personId}/logout-all", mod.Access)).BodyAsync(HttpStatusCode.OK);
        var fresh = await SignInAsAsync(address, agent, person, orgId);
        return new DataSubjectScene(orgId, mod, personId, person, address, agent, fresh, (string)key["id"]!, (string)key["key"]!, bystanderId, bystander);
    }

    private async Task<Tokens> SignInAsAsync(string address, string agent, string email, string orgId)
    {
        using var http = ClientFrom(address, agent);
        var body = await (await http.PostAsJsonAsync("/v1/auth/login", new { email, password = ControlPlaneFixture.DefaultPassword, org_id = orgId }))
            .BodyAsync(HttpStatusCode.OK);
        return new Tokens((string)body["access_token"]!, (string)body["refresh_token"]!);
    }

    private async Task<string> UserIdAsync(Tokens mod, string email) =>
        (string)(await (await F.SendAsync(HttpMethod.Get, "/v1/users?q=" + Uri.EscapeDataString(email), mod.Access)).BodyAsync(HttpStatusCode.OK)).AsArray()
            .Single(u => (string?)u!["email"] == email)!["id"]!;

    private sealed record DataSubjectScene(string OrgId, Tokens Mod, string PersonId, string Email, string Address, string Agent, Tokens Person,
        string KeyId, string Key, string BystanderId, string BystanderEmail);

    private async Task<string> ExportAsync(Tokens mod, string userId)
    {
        var created = await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{userId}/export", mod.Access)).BodyAsync(HttpStatusCode.Accepted);
        Assert.Equal("ready", (string?)created["state"]);
        var download = await F.SendAsync(HttpMethod.Get, (string)created["download_url"]!, mod.Access);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/x-ndjson", download.Content.Headers.ContentType?.MediaType);
        return await download.Content.ReadAsStringAsync();
    }

    [SuiteFact]
    public async Task An_export_holds_every_record_about_the_person_and_nothing_about_others_and_is_handed_out_once()
    {
        var s = await DataSubjectSceneAsync();
        var created = await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{s.PersonId}/export", s.Mod.Access)).BodyAsync(HttpStatusCode.Accepted);
        var url = (string)created["download_url"]!;
        var text = await (await F.SendAsync(HttpMethod.Get, url, s.Mod.Access)).Content.ReadAsStringAsync();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();

        Assert.Equal("export", (string?)lines[0]["type"]);
        Assert.Equal("end", (string?)lines[^1]["type"]);
        Assert.Equal(lines.Count - 2, (int)lines[^1]["records"]!);
        List<JsonNode> Of(string type) => lines.Where(l => (string?)l["type"] == type).ToList();
        Assert.Equal(s.Email, (string?)Assert.Single(Of("profile"))["email"]);
        Assert.Equal("mod", (string?)Assert.Single(Of("membership"))["role"]);
        Assert.Single(Of("team"));
        var sessionsInDb = await F.InspectAsync<long>("SELECT COUNT(*) FROM sessions WHERE user_id = @id", new { id = s.PersonId });
        Assert.Equal(sessionsInDb, Of("session").Count);
        Assert.All(Of("session"), l => Assert.Equal(s.Agent, (string?)l["user_agent"]));
        Assert.Equal(s.KeyId, (string?)Assert.Single(Of("api_key"))["api_key_id"]);
        Assert.DoesNotContain(s.Key, text, StringComparison.Ordinal);
        // Every audit event about the person, as subject or actor, is there (all but the export's own two, written after it).
        var events = await F.InspectAsync<long>("""
            SELECT COUNT(*) FROM audit_events WHERE org_id = @org AND (user_id = @id OR actor_id = @id)
              AND event NOT IN ('user_export_created', 'user_export_downloaded')
            """, new { org = s.OrgId, id = s.PersonId });
        Assert.True(Of("audit_event").Count >= events, $"{Of("audit_event").Count} audit lines for {events} events");
        Assert.Contains(Of("audit_event"), l => (string?)l["event"] == "login_succeeded" && (string?)l["ip"] == s.Address);
        Assert.Contains(Of("audit_event"), l => (string?)l["event"] == "user_created" && (string?)l["as"] == "actor");
        // Nothing about anyone else: not the person they created, not the mod who acted on them.
        Assert.DoesNotContain(s.BystanderEmail, text, StringComparison.Ordinal);
        Assert.DoesNotContain(s.BystanderId, text, StringComparison.Ordinal);
        var modId = await F.InspectAsync<string>("SELECT user_id FROM memberships WHERE org_id = @org AND user_id <> @id AND role = 'mod' ORDER BY created_at LIMIT 1",
            new { org = s.OrgId, id = s.PersonId });
        Assert.DoesNotContain(modId, text, StringComparison.Ordinal);

        // Once: the content is gone after the first download; the job says so.
        var again = await F.SendAsync(HttpMethod.Get, url, s.Mod.Access);
        Assert.Equal(ErrorCodes.ExportGone, (string?)(await again.BodyAsync(HttpStatusCode.Gone))["code"]);
        var state = await (await F.SendAsync(HttpMethod.Get, $"/v1/users/{s.PersonId}/exports/{created["id"]}", s.Mod.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("downloaded", (string?)state["state"]);
        Assert.Equal(0, await F.InspectAsync<long>("SELECT COUNT(*) FROM data_exports WHERE id = @id AND sealed_content IS NOT NULL", new { id = (string)created["id"]! }));
    }

    [SuiteFact]
    public async Task Another_org_can_neither_export_nor_download_nor_erase_the_person()
    {
        var s = await DataSubjectSceneAsync();
        var (_, modB) = await OtherOrgAsync(await F.AdminAsync());
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{s.PersonId}/export", modB.Access)).BodyAsync(HttpStatusCode.NotFound);
        var created = await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{s.PersonId}/export", s.Mod.Access)).BodyAsync(HttpStatusCode.Accepted);
        await (await F.SendAsync(HttpMethod.Get, (string)created["download_url"]!, modB.Access)).BodyAsync(HttpStatusCode.NotFound);
        await (await F.SendAsync(HttpMethod.Delete, $"/v1/users/{s.PersonId}?erase=true", modB.Access)).BodyAsync(HttpStatusCode.NotFound);
        // The person's org still has everything, and its export was not spent by the other org's attempt.
        Assert.Equal(1, await F.InspectAsync<long>("SELECT COUNT(*) FROM users WHERE id = @id", new { id = s.PersonId }));
        Assert.Contains(s.Email, await (await F.SendAsync(HttpMethod.Get, (string)created["download_url"]!, s.Mod.Access)).Content.ReadAsStringAsync(),
            StringComparison.Ordinal);
        // Plain members cannot ask either, and deleting without erase=true is refused.
        var member = await F.LoginOkAsync(s.BystanderEmail, ControlPlaneFixture.DefaultPassword, s.OrgId);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{s.PersonId}/export", member.Access)).BodyAsync(HttpStatusCode.Forbidden);
        await (await F.SendAsync(HttpMethod.Delete, $"/v1/users/{s.PersonId}?erase=true", member.Access)).BodyAsync(HttpStatusCode.Forbidden);
        var plain = await (await F.SendAsync(HttpMethod.Delete, $"/v1/users/{s.PersonId}", s.Mod.Access)).BodyAsync(HttpStatusCode.BadRequest);
        Assert.Equal(ErrorCodes.ValidationFailed, (string?)plain["code"]);
        await (await F.SendAsync(HttpMethod.Delete, $"/v1/users/{s.PersonId}?erase=yes", s.Mod.Access)).BodyAsync(HttpStatusCode.BadRequest);
        Assert.Equal(1, await F.InspectAsync<long>("SELECT COUNT(*) FROM memberships WHERE user_id = @id", new { id = s.PersonId }));
    }

    [SuiteFact]
    public async Task After_erasure_no_column_of_any_table_names_the_person_and_the_chain_still_verifies()
    {
        var s = await DataSubjectSceneAsync();
        var before = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?limit=500", s.Mod.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Contains(before["items"]!.AsArray(), e => (string?)e!["userId"] == s.PersonId);
        Assert.NotEmpty(await NamingAsync(s.PersonId));

        var report = await (await F.SendAsync(HttpMethod.Delete, $"/v1/users/{s.PersonId}?erase=true", s.Mod.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)report["identity_erased"]!);
        Assert.True((int)report["sessions_ended"]! >= 1);
        Assert.Equal(1, (int)report["api_keys_revoked"]!);
        Assert.True((int)report["audit_events_redacted"]! >= 8, report.ToJsonString());

        foreach (var needle in new[] { s.PersonId, s.Email, s.Agent, s.Address })
        {
            var found = await NamingAsync(needle);
            Assert.True(found.Count == 0, $"'{needle}' still in: {string.Join(", ", found)}");
        }

        // The chain verifies online (content, links, MACs, checkpoints) and offline from an export with the JWKS.
        var verify = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/verify", s.Mod.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)verify["ok"]!, verify.ToJsonString());
        var export = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/export", s.Mod.Access)).Content.ReadAsStringAsync();
        if (OfflineVerify(export, await F.Http.GetStringAsync("/.well-known/jwks.json")) is { } offline)
        {
            Assert.True(offline.Code == 0, offline.Output);
        }

        // A redacted event still resists tampering: its remaining fields are bound by the same hash.
        var redacted = await F.InspectAsync<string>("SELECT id FROM audit_events WHERE org_id = @org AND redacted IS NOT NULL AND event = 'login_succeeded' LIMIT 1",
            new { org = s.OrgId });
        Assert.Equal(1, await F.ExecuteAsync("UPDATE audit_events SET outcome = 'failure' WHERE id = @redacted", new { redacted }));
        Assert.False((bool)(await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/verify", s.Mod.Access)).BodyAsync(HttpStatusCode.OK))["ok"]!);
        Assert.Equal(1, await F.ExecuteAsync("UPDATE audit_events SET outcome = 'success' WHERE id = @redacted", new { redacted }));

        // The erasure is itself an event, naming no one; the person's tokens are dead; the bystander is untouched.
        var erased = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?event=user_erased", s.Mod.Access)).BodyAsync(HttpStatusCode.OK);
        var evt = Assert.Single(erased["items"]!.AsArray())!;
        Assert.StartsWith("erased_", (string?)evt["details"]!["subject"]);
        Assert.Null((string?)evt["userId"]);
        await (await F.SendAsync(HttpMethod.Get, "/v1/users", s.Person.Access)).BodyAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.Unauthorized, (await F.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = s.Person.Refresh })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await F.LoginAsync(s.Email, ControlPlaneFixture.DefaultPassword, s.OrgId)).StatusCode);
        Assert.Equal(1, await F.InspectAsync<long>("SELECT COUNT(*) FROM users WHERE id = @id", new { id = s.BystanderId }));
        await F.LoginOkAsync(s.BystanderEmail, ControlPlaneFixture.DefaultPassword, s.OrgId);
        // The revocations reach edges through the change feed: a sid per session and the key, none naming the person.
        Assert.True(await F.InspectAsync<long>("SELECT COUNT(*) FROM edge_changes WHERE org_id = @org AND kind = 'sid' AND value = @sid",
            new { org = s.OrgId, sid = SessionIdOf(s.Person.Access) }) == 1);
        Assert.Equal(1, await F.InspectAsync<long>("SELECT COUNT(*) FROM edge_changes WHERE org_id = @org AND value = @key", new { org = s.OrgId, key = s.KeyId }));
    }

    [SuiteFact]
    public async Task Erasing_a_person_another_org_also_holds_erases_only_this_orgs_part()
    {
        var admin = await F.AdminAsync();
        var (orgA, modA) = await AuditOrgAsync();
        var (orgB, modB) = await OtherOrgAsync(admin);
        var email = await CreateOrgUserAsync(modA.Access);
        var id = await UserIdAsync(modA, email);
        // The person joins B too (same identity, a membership in each org).
        await (await F.SendAsync(HttpMethod.Post, "/v1/users", modB.Access, new { email, password = ControlPlaneFixture.DefaultPassword, role = "explore" }))
            .BodyAsync(HttpStatusCode.Conflict);
        await F.ExecuteAsync("INSERT INTO memberships (org_id, user_id, role, active, created_at) VALUES (@orgB, @id, 'explore', 1, 0)", new { orgB, id });
        await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgA);
        await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgB);

        var report = await (await F.SendAsync(HttpMethod.Delete, $"/v1/users/{id}?erase=true", modA.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.False((bool)report["identity_erased"]!);
        Assert.Equal(0, await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgA AND (user_id = @id OR actor_id = @id OR email = @email)",
            new { orgA, id, email }));
        Assert.Equal(0, await F.InspectAsync<long>("SELECT COUNT(*) FROM sessions WHERE org_id = @orgA AND user_id = @id", new { orgA, id }));
        // B's part is B's: the person still signs in there, and B's records of them are whole.
        await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgB);
        Assert.True(await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgB AND user_id = @id", new { orgB, id }) > 0);
        Assert.True((bool)(await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/verify", modA.Access)).BodyAsync(HttpStatusCode.OK))["ok"]!);
    }

    [SuiteFact]
    public async Task An_event_from_before_format_2_is_erased_too_and_sealed_so_tampering_with_it_still_shows()
    {
        var s = await DataSubjectSceneAsync();
        // The person's newest event as an upgraded store has it: format 1 (one hash over the clear fields), keyed MAC.
        var audit = F.Services.GetRequiredService<Authio.ControlPlane.Audit.AuditLog>();
        await using (var c = await F.OpenInspectorAsync())
        {
            var row = await c.QuerySingleAsync<Authio.ControlPlane.Audit.AuditRow>(
                "SELECT * FROM audit_events WHERE org_id = @org ORDER BY seq DESC LIMIT 1", new { org = s.OrgId });
            Assert.Equal(s.PersonId, row.UserId);
            row.Format = 1;
            row.Salts = null;
            row.Hash = Authio.ControlPlane.Audit.AuditLog.HashOf(row);
            row.Mac = audit.MacOf(s.OrgId, row.Hash);
            Assert.Equal(1, await c.ExecuteAsync("UPDATE audit_events SET format = 1, salts = NULL, hash = @Hash, mac = @Mac WHERE seq = @Seq", row));
        }

        Assert.True((bool)(await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/verify", s.Mod.Access)).BodyAsync(HttpStatusCode.OK))["ok"]!);
        await (await F.SendAsync(HttpMethod.Delete, $"/v1/users/{s.PersonId}?erase=true", s.Mod.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Empty(await NamingAsync(s.PersonId));
        Assert.True((bool)(await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/verify", s.Mod.Access)).BodyAsync(HttpStatusCode.OK))["ok"]!);

        // Its content can no longer be recomputed, but the erasure sealed what remains: an edit still breaks verification.
        var legacy = await F.InspectAsync<string>("SELECT id FROM audit_events WHERE org_id = @org AND format = 1 AND redacted IS NOT NULL", new { org = s.OrgId });
        Assert.Equal(1, await F.ExecuteAsync("UPDATE audit_events SET event = 'logout' WHERE id = @legacy", new { legacy }));
        var broken = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/verify", s.Mod.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.False((bool)broken["ok"]!);
        Assert.Equal(legacy, (string?)broken["firstBrokenEventId"]);
    }

    private static string SessionIdOf(string accessToken) =>
        (string)JsonNode.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(accessToken.Split('.')[1]))!["sid"]!;

    /// <summary>Every "table.column" of the database whose text contains <paramref name="needle"/>.</summary>
    private async Task<List<string>> NamingAsync(string needle)
    {
        await using var c = await F.OpenInspectorAsync();
        var pg = F is PostgresFixture;
        var columns = pg
            ? (await c.QueryAsync<(string Table, string Column)>(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position")).ToList()
            : (await c.QueryAsync<(string Table, string Column)>("""
                SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
                WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid
                """)).ToList();
        Assert.True(columns.Count > 50, "the scan must see the whole schema");
        var found = new List<string>();
        foreach (var (table, column) in columns)
        {
            var sql = pg
                ? $"SELECT COUNT(*) FROM \"{table}\" WHERE strpos(CAST(\"{column}\" AS TEXT), @needle) > 0"
                : $"SELECT COUNT(*) FROM \"{table}\" WHERE instr(CAST(\"{column}\" AS TEXT), @needle) > 0";
            if (await c.ExecuteScalarAsync<long>(sql, new { needle }) > 0)
            {
                found.Add(table + "." + column);
            }
        }

        return found;
    }
}
