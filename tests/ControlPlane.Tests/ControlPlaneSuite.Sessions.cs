using System.Net;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task Refresh_rotates_and_reuse_revokes_the_whole_session()
    {
        var (id, email) = await F.CreateUserAsync();
        var first = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var sid = Jwt(first.Access).GetPayloadValue<string>(ClaimNames.SessionId);

        var second = await (await RefreshAsync(first.Refresh)).BodyAsync(HttpStatusCode.OK);
        var secondRefresh = (string)second["refresh_token"]!;
        Assert.NotEqual(first.Refresh, secondRefresh);
        Assert.Equal(sid, Jwt((string)second["access_token"]!).GetPayloadValue<string>(ClaimNames.SessionId));
        var third = await (await RefreshAsync(secondRefresh)).BodyAsync(HttpStatusCode.OK);

        // Replaying the first (already rotated) token: the family dies, including the newest token.
        await (await RefreshAsync(first.Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await RefreshAsync((string)third["refresh_token"]!)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await F.SendAsync(HttpMethod.Get, "/v1/users/" + id, (string)third["access_token"]!)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);

        Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM revocations WHERE kind = 'sid' AND value = @sid", new { sid }));
        var admin = await F.AdminAsync();
        var events = await AuditEventsAsync(admin.Access, "sessionId=" + sid);
        Assert.Contains("refresh_reuse_detected", events);
        Assert.Equal(2, (await AuditEventsAsync(admin.Access, "event=token_refreshed&outcome=success&sessionId=" + sid)).Count);
    }

    [SuiteFact]
    public async Task Garbage_refresh_tokens_are_401()
    {
        await (await RefreshAsync("nope")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await RefreshAsync("org_x.abc")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
    }

    [SuiteFact]
    public async Task Inactivity_ends_the_session_at_refresh()
    {
        var (_, email) = await F.CreateUserAsync();
        var t = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        F.Time.Advance(TimeSpan.FromMinutes(61));
        await (await RefreshAsync(t.Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        var sid = Jwt(t.Access).GetPayloadValue<string>(ClaimNames.SessionId);
        Assert.Equal("idle_timeout", await F.InspectAsync<string>("SELECT end_reason FROM sessions WHERE id = @sid", new { sid }));
    }

    [SuiteFact]
    public async Task Logout_ends_the_callers_session_and_records_a_revocation()
    {
        var (_, email) = await F.CreateUserAsync();
        var t = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var sid = Jwt(t.Access).GetPayloadValue<string>(ClaimNames.SessionId);
        await (await F.SendAsync(HttpMethod.Post, "/v1/auth/logout", t.Access)).BodyAsync(HttpStatusCode.NoContent);
        await (await F.SendAsync(HttpMethod.Get, "/v1/teams", t.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await RefreshAsync(t.Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        var expires = await F.InspectAsync<long>("SELECT expires_at FROM revocations WHERE kind = 'sid' AND value = @sid", new { sid });
        // The revocation lives until the session's last access token (15 min) plus skew (1 min) could be valid.
        var issued = Jwt(t.Access).ValidTo;
        Assert.InRange(DateTimeOffset.FromUnixTimeMilliseconds(expires), issued.AddSeconds(59), issued.AddSeconds(62));
    }

    [SuiteFact]
    public async Task Logout_all_ends_every_session_with_a_user_not_before_revocation()
    {
        var (id, email) = await F.CreateUserAsync();
        var a = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var b = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var sessions = await (await F.SendAsync(HttpMethod.Get, $"/v1/users/{id}/sessions", a.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(2, sessions.AsArray().Count);
        Assert.All(sessions.AsArray(), s =>
        {
            Assert.Equal("127.0.0.1", (string?)s!["ipAddress"]);
            Assert.Equal("authio-tests/1.0", (string?)s["userAgent"]);
            Assert.NotNull(s["createdAt"]);
            Assert.NotNull(s["lastSeenAt"]);
        });

        var r = await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/logout-all", a.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(2, (int)r["sessionsEnded"]!);
        await (await RefreshAsync(a.Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await RefreshAsync(b.Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await F.SendAsync(HttpMethod.Get, "/v1/teams", b.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM revocations WHERE kind = 'user_not_before' AND value = @id AND not_before IS NOT NULL", new { id }));
        // Edges will pull revocations by sequence number; later records always get higher numbers.
        var userSeq = await F.InspectAsync<long>("SELECT seq FROM revocations WHERE kind = 'user_not_before' AND value = @id", new { id });
        await F.SendAsync(HttpMethod.Post, "/v1/auth/logout", (await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword)).Access);
        Assert.True(await F.InspectAsync<long>("SELECT MAX(seq) FROM revocations") > userSeq);
    }

    [SuiteFact]
    public async Task Ending_one_session_and_the_session_limit()
    {
        var (id, email) = await F.CreateUserAsync();
        var logins = new List<Tokens>();
        for (var i = 0; i < 11; i++)
        {
            logins.Add(await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword));
        }
        // The 11th sign-in ended the oldest session.
        await (await RefreshAsync(logins[0].Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        var oldest = Jwt(logins[0].Access).GetPayloadValue<string>(ClaimNames.SessionId);
        Assert.Equal("session_limit", await F.InspectAsync<string>("SELECT end_reason FROM sessions WHERE id = @oldest", new { oldest }));
        var latest = logins[^1];
        var list = await (await F.SendAsync(HttpMethod.Get, $"/v1/users/{id}/sessions", latest.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(10, list.AsArray().Count);

        var victim = Jwt(logins[1].Access).GetPayloadValue<string>(ClaimNames.SessionId);
        await (await F.SendAsync(HttpMethod.Delete, "/v1/sessions/" + victim, latest.Access)).BodyAsync(HttpStatusCode.NoContent);
        await (await RefreshAsync(logins[1].Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        list = await (await F.SendAsync(HttpMethod.Get, $"/v1/users/{id}/sessions", latest.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(9, list.AsArray().Count);
        await (await F.SendAsync(HttpMethod.Delete, "/v1/sessions/" + victim, latest.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }

    [SuiteFact]
    public async Task Password_change_ends_all_other_sessions()
    {
        var (id, email) = await F.CreateUserAsync();
        var keep = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var other = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/password", keep.Access, new { current_password = "Wr0ng!pass", new_password = "N3w!passw" }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var weak = await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/password", keep.Access,
            new { current_password = ControlPlaneFixture.DefaultPassword, new_password = "weak" })).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.NotNull(weak["errors"]!["new_password"]);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/password", keep.Access,
            new { current_password = ControlPlaneFixture.DefaultPassword, new_password = "N3w!passw" })).BodyAsync(HttpStatusCode.NoContent);

        await (await RefreshAsync(other.Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await RefreshAsync(keep.Refresh)).BodyAsync(HttpStatusCode.OK);
        await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await F.LoginOkAsync(email, "N3w!passw");
    }

    [SuiteFact]
    public async Task Deactivated_users_cannot_sign_in_or_refresh()
    {
        var admin = await F.AdminAsync();
        var (id, email) = await F.CreateUserAsync(admin: admin);
        var t = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var u = await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/deactivate", admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.False((bool)u["active"]!);
        await (await RefreshAsync(t.Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await F.SendAsync(HttpMethod.Get, "/v1/teams", t.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
    }

    [SuiteFact]
    public async Task Concurrent_sign_ins_and_refreshes_succeed_and_keep_the_audit_chain_intact()
    {
        var (_, email) = await F.CreateUserAsync();
        var logins = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword)));
        var refreshes = await Task.WhenAll(logins.Select(t => RefreshAsync(t.Refresh)));
        Assert.All(refreshes, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var admin = await F.AdminAsync();
        var verify = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events/verify", admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)verify["ok"]!, verify.ToJsonString());
    }

    [SuiteFact]
    public async Task Racing_uses_of_one_refresh_token_never_leave_two_live_token_families()
    {
        var (_, email) = await F.CreateUserAsync();
        var t = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => RefreshAsync(t.Refresh)));
        var winners = results.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
        Assert.True(winners.Count <= 1, $"{winners.Count} concurrent refreshes succeeded");
        // Every loser is reuse, which revokes the session, so whatever the winner got is dead too.
        foreach (var w in winners)
        {
            await (await RefreshAsync((string)(await w.BodyAsync(HttpStatusCode.OK))["refresh_token"]!)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        }
    }
}
