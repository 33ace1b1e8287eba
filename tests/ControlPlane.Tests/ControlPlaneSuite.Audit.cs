using System.Net;
using System.Text.Json.Nodes;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task Every_audit_event_type_is_produced_and_none_holds_secrets()
    {
        var admin = await F.AdminAsync();
        var (id, email) = await F.CreateUserAsync("explore", admin);
        await F.LoginAsync(email, "Wr0ng!pass");
        for (var i = 0; i < 5; i++)
        {
            await F.LoginAsync(email, "Wr0ng!pass");
        }

        F.Time.Advance(TimeSpan.FromMinutes(16));
        admin = await F.AdminAsync();
        var t1 = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var t2 = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var t3 = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var r1 = (string)(await (await RefreshAsync(t1.Refresh)).BodyAsync(HttpStatusCode.OK))["refresh_token"]!;
        await RefreshAsync(t1.Refresh);
        await F.SendAsync(HttpMethod.Post, "/v1/auth/logout", t2.Access);
        await F.SendAsync(HttpMethod.Delete, "/v1/sessions/" + Jwt(t3.Access).GetPayloadValue<string>(ClaimNames.SessionId), admin.Access);
        var t4 = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/password", t4.Access, new { current_password = ControlPlaneFixture.DefaultPassword, new_password = "N3w!passw" });
        await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/logout-all", admin.Access);
        await F.SendAsync(HttpMethod.Put, $"/v1/users/{id}/role", admin.Access, new { role = "create" });
        await F.SendAsync(HttpMethod.Delete, $"/v1/users/{id}/role", admin.Access);
        var teamId = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/teams", admin.Access, new { name = "audit-" + Guid.NewGuid().ToString("N")[..6] })).BodyAsync(HttpStatusCode.Created))["id"]!;
        await F.SendAsync(HttpMethod.Patch, "/v1/teams/" + teamId, admin.Access, new { name = "audit-renamed-" + Guid.NewGuid().ToString("N")[..6] });
        await F.SendAsync(HttpMethod.Put, $"/v1/teams/{teamId}/members/{id}", admin.Access);
        await F.SendAsync(HttpMethod.Delete, $"/v1/teams/{teamId}/members/{id}", admin.Access);
        await F.SendAsync(HttpMethod.Delete, "/v1/teams/" + teamId, admin.Access);
        await F.SendAsync(HttpMethod.Patch, "/v1/org", admin.Access, new { audit_retention_days = 90 });
        await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/deactivate", admin.Access);
        var pending = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", admin.Access)).BodyAsync(HttpStatusCode.OK))["kid"]!;
        await F.SendAsync(HttpMethod.Post, $"/v1/signing-keys/{pending}/revoke", admin.Access);

        var fresh = await F.AdminAsync();
        var events = await AuditEventsAsync(fresh.Access, "");
        string[] expected =
        [
            "login_succeeded", "login_failed", "account_locked", "logout", "token_refreshed", "refresh_reuse_detected", "session_ended",
            "force_logout", "password_changed", "user_created", "user_deactivated", "role_assigned", "role_revoked", "team_created",
            "team_renamed", "team_deleted", "team_member_added", "team_member_removed", "org_updated", "signing_key_created",
            "signing_key_retirement_scheduled", "signing_key_revoked",
        ];
        Assert.All(expected, e => Assert.Contains(e, events));

        using var export = await F.SendAsync(HttpMethod.Get, "/v1/audit-events/export", fresh.Access);
        Assert.Equal("application/x-ndjson", export.Content.Headers.ContentType?.MediaType);
        var ndjson = await export.Content.ReadAsStringAsync();
        var lines = ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= events.Count);
        var sample = JsonNode.Parse(lines.Last(l => l.Contains("login_succeeded", StringComparison.Ordinal)))!;
        foreach (var field in new[] { "timestamp", "event", "userId", "email", "ipAddress", "userAgent", "sessionId", "outcome" })
        {
            Assert.NotNull(sample[field]);
        }

        foreach (var secret in new[] { ControlPlaneFixture.DefaultPassword, "N3w!passw", "Wr0ng!pass", t1.Refresh, r1, t1.Access, ControlPlaneFixture.AdminPassword })
        {
            Assert.DoesNotContain(secret, ndjson, StringComparison.Ordinal);
        }
    }

    [SuiteFact]
    public async Task Audit_filters_and_cursor_pagination()
    {
        var admin = await F.AdminAsync();
        var (id, email) = await F.CreateUserAsync("explore", admin);
        for (var i = 0; i < 3; i++)
        {
            await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await (await F.SendAsync(HttpMethod.Get, $"/v1/audit-events?event=login_succeeded&userId={id}&limit=2" + (cursor is null ? "" : "&cursor=" + cursor), admin.Access))
                .BodyAsync(HttpStatusCode.OK);
            seen.AddRange(page["items"]!.AsArray().Select(e => (string)e!["id"]!));
            Assert.All(page["items"]!.AsArray(), e => Assert.Equal(id, (string?)e!["userId"]));
            cursor = (string?)page["nextCursor"];
        } while (cursor is not null);
        Assert.Equal(3, seen.Distinct().Count());
        var future = Uri.EscapeDataString(F.Time.GetUtcNow().AddHours(1).ToString("O"));
        var none = await (await F.SendAsync(HttpMethod.Get, $"/v1/audit-events?userId={id}&from={future}", admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Empty(none["items"]!.AsArray());
        await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?cursor=abc", admin.Access)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }

    [SuiteFact]
    public async Task Audit_verify_reports_the_first_tampered_event()
    {
        var admin = await F.AdminAsync();
        var ok = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/verify", admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)ok["ok"]!);
        var orgId = Jwt(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        var victim = await F.InspectAsync<string>(
            "SELECT id FROM audit_events WHERE org_id = @orgId AND event = 'login_succeeded' ORDER BY seq LIMIT 1", new { orgId });
        Assert.Equal(1, await F.ExecuteAsync("UPDATE audit_events SET ip = '10.6.6.6' WHERE id = @victim", new { victim }));
        var broken = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/verify", admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.False((bool)broken["ok"]!);
        Assert.Equal(victim, (string?)broken["firstBrokenEventId"]);
        // Repair so later tests in this class see a clean chain.
        Assert.Equal(1, await F.ExecuteAsync("UPDATE audit_events SET ip = '127.0.0.1' WHERE id = @victim", new { victim }));
    }

    [SuiteFact]
    public async Task Audit_events_past_retention_are_pruned_and_the_chain_still_verifies()
    {
        var admin = await F.AdminAsync();
        var orgId = Jwt(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        Assert.True(await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgId", new { orgId }) > 0);
        F.Time.Advance(TimeSpan.FromDays(91));
        var cutoff = F.Time.GetUtcNow().AddDays(-90).ToUnixTimeMilliseconds();
        admin = await F.AdminAsync();
        Assert.True(await F.Services.GetRequiredService<Audit.AuditRetention>().PruneAsync(CancellationToken.None) > 0);
        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgId AND ts < @cutoff", new { orgId, cutoff }));
        Assert.True(await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgId", new { orgId }) > 0);
        var verify = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/verify", admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)verify["ok"]!);
    }
}
