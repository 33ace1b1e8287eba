using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Hosting;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.Tests;

/// <summary>The behaviour every store must show. Each derived class runs it against one store through real HTTP.</summary>
public abstract class ControlPlaneSuite(ControlPlaneFixture f)
{
    protected ControlPlaneFixture F { get; } = f;

    private static JsonWebToken Jwt(string token) => new(token);

    private async Task<JsonWebKeySet> JwksAsync() =>
        new(await (await F.Http.GetAsync("/.well-known/jwks.json")).Content.ReadAsStringAsync());

    private async Task<bool> SignatureVerifiesAgainstJwksAsync(string token)
    {
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            IssuerSigningKeys = (await JwksAsync()).GetSigningKeys(),
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            ValidTypes = [ClaimNames.AccessTokenType],
        });
        return result.IsValid;
    }

    private Task<HttpResponseMessage> RefreshAsync(string refresh) => F.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = refresh });

    private async Task<List<string>> AuditEventsAsync(string adminToken, string query)
    {
        var page = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?limit=500&" + query, adminToken)).BodyAsync(HttpStatusCode.OK);
        return page["items"]!.AsArray().Select(e => (string)e!["event"]!).ToList();
    }

    [SuiteFact]
    public async Task Login_returns_a_token_pair_with_an_ES256_at_jwt_access_token()
    {
        var (id, email) = await F.CreateUserAsync("create");
        var r = await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword);
        var body = await r.BodyAsync(HttpStatusCode.OK);
        Assert.Equal("Bearer", (string?)body["token_type"]);
        Assert.Equal(900, (int)body["expires_in"]!);
        var refresh = (string)body["refresh_token"]!;
        Assert.True(refresh.Length > 43);
        Assert.True(r.Headers.CacheControl?.NoStore);
        Assert.DoesNotContain("\"d\"", await F.Http.GetStringAsync("/.well-known/jwks.json"), StringComparison.Ordinal);

        var jwt = Jwt((string)body["access_token"]!);
        Assert.Equal("ES256", jwt.Alg);
        Assert.Equal(ClaimNames.AccessTokenType, jwt.Typ);
        Assert.Contains((await JwksAsync()).Keys, k => k.Kid == jwt.Kid && k.Kty == "EC" && k.Crv == "P-256" && k.Alg == "ES256" && k.Use == "sig");
        Assert.Equal("http://localhost:5100", jwt.Issuer);
        Assert.Equal(["authio-api"], jwt.Audiences);
        Assert.Equal(id, jwt.Subject);
        Assert.Equal("read:* write:*", jwt.GetPayloadValue<string>(ClaimNames.Scope));
        Assert.Equal("create", jwt.GetPayloadValue<string>(ClaimNames.Role));
        Assert.StartsWith("org_", jwt.GetPayloadValue<string>(ClaimNames.Org));
        Assert.StartsWith("ses_", jwt.GetPayloadValue<string>(ClaimNames.SessionId));
        Assert.False(string.IsNullOrEmpty(jwt.Id));
        Assert.Equal(TimeSpan.FromMinutes(15), jwt.ValidTo - jwt.IssuedAt);
        Assert.True(jwt.TryGetPayloadValue<string[]>(ClaimNames.Teams, out _));
        Assert.True(await SignatureVerifiesAgainstJwksAsync(jwt.EncodedToken));

        // Only the hash of the refresh token is stored.
        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM refresh_tokens WHERE hash = @refresh", new { refresh }));
        Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM sessions WHERE user_id = @id", new { id }));
    }

    [SuiteFact]
    public async Task Unknown_email_and_wrong_password_get_the_same_401()
    {
        var (_, email) = await F.CreateUserAsync();
        var unknown = await (await F.LoginAsync("nobody@acme.test", "Wr0ng!pass")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        var wrong = await (await F.LoginAsync(email, "Wr0ng!pass")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.Equal((string?)unknown["detail"], (string?)wrong["detail"]);
        Assert.Equal((string?)unknown["title"], (string?)wrong["title"]);
    }

    [SuiteFact]
    public async Task Five_failures_lock_the_account_for_fifteen_minutes()
    {
        var (id, email) = await F.CreateUserAsync();
        for (var i = 0; i < 4; i++)
            await (await F.LoginAsync(email, "Wr0ng!pass")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await F.LoginAsync(email, "Wr0ng!pass")).ProblemAsync((HttpStatusCode)423, ErrorCodes.AccountLocked);
        // Even the right password is refused while locked.
        await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).ProblemAsync((HttpStatusCode)423, ErrorCodes.AccountLocked);

        F.Time.Advance(TimeSpan.FromMinutes(14));
        await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).ProblemAsync((HttpStatusCode)423, ErrorCodes.AccountLocked);
        F.Time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);

        var admin = await F.AdminAsync();
        var events = await AuditEventsAsync(admin.Access, "userId=" + id);
        Assert.Contains("account_locked", events);
        // 5 bad passwords, then 2 attempts while locked.
        Assert.Equal(7, events.Count(e => e == "login_failed"));
        Assert.Contains("login_succeeded", events);
    }

    [SuiteFact]
    public async Task Failures_outside_the_window_do_not_lock()
    {
        var (_, email) = await F.CreateUserAsync();
        for (var i = 0; i < 4; i++) await F.LoginAsync(email, "Wr0ng!pass");
        F.Time.Advance(TimeSpan.FromMinutes(16));
        await (await F.LoginAsync(email, "Wr0ng!pass")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
    }

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
        for (var i = 0; i < 11; i++) logins.Add(await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword));
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
    public async Task Roles_gate_admin_calls_and_map_to_scopes()
    {
        var admin = await F.AdminAsync();
        var (id, email) = await F.CreateUserAsync("explore", admin);
        var explorer = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        Assert.Equal("read:*", Jwt(explorer.Access).GetPayloadValue<string>(ClaimNames.Scope));
        await (await F.SendAsync(HttpMethod.Post, "/v1/users", explorer.Access, new { email = "x@acme.test", password = "Passw0rd!", role = "mod" }))
            .ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await F.SendAsync(HttpMethod.Get, "/v1/users", null)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await F.SendAsync(HttpMethod.Get, "/v1/users", "not-a-token")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);

        // Project role above the org-wide role wins on that project only.
        await (await F.SendAsync(HttpMethod.Put, $"/v1/users/{id}/role", admin.Access, new { role = "mod", project_id = "p1" })).BodyAsync(HttpStatusCode.OK);
        var onProject = await (await F.SendAsync(HttpMethod.Get, $"/v1/users/{id}/effective-role?project_id=p1", explorer.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("mod", (string?)onProject["role"]);
        var orgWide = await (await F.SendAsync(HttpMethod.Get, $"/v1/users/{id}/effective-role", explorer.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("explore", (string?)orgWide["role"]);
        await (await F.SendAsync(HttpMethod.Delete, $"/v1/users/{id}/role?project_id=p1", admin.Access)).BodyAsync(HttpStatusCode.OK);

        await (await F.SendAsync(HttpMethod.Put, $"/v1/users/{id}/role", admin.Access, new { role = "mod" })).BodyAsync(HttpStatusCode.OK);
        var promoted = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        Assert.Equal("read:* write:* admin", Jwt(promoted.Access).GetPayloadValue<string>(ClaimNames.Scope));
        await (await F.SendAsync(HttpMethod.Put, $"/v1/users/{id}/role", admin.Access, new { role = "god" }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }

    [SuiteFact]
    public async Task User_creation_validates_and_refuses_duplicates()
    {
        var admin = await F.AdminAsync();
        var bad = await (await F.SendAsync(HttpMethod.Post, "/v1/users", admin.Access, new { email = "nope", password = "short", role = "explore" }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.NotNull(bad["errors"]!["email"]);
        Assert.NotNull(bad["errors"]!["password"]);
        var tooLong = await (await F.SendAsync(HttpMethod.Post, "/v1/users", admin.Access,
            new { email = "long@acme.test", password = "Aa1!" + new string('x', 70), role = "explore" })).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Contains("72 bytes", tooLong["errors"]!["password"]!.ToJsonString());
        await (await F.SendAsync(HttpMethod.Post, "/v1/users", admin.Access, new { email = ControlPlaneFixture.AdminEmail, password = "Passw0rd!", role = "explore" }))
            .ProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
    }

    [SuiteFact]
    public async Task Teams_are_managed_and_go_into_the_token()
    {
        var admin = await F.AdminAsync();
        var (id, email) = await F.CreateUserAsync(admin: admin);
        var name = "team-" + Guid.NewGuid().ToString("N")[..6];
        var team = await (await F.SendAsync(HttpMethod.Post, "/v1/teams", admin.Access, new { name })).BodyAsync(HttpStatusCode.Created);
        var teamId = (string)team["id"]!;
        await (await F.SendAsync(HttpMethod.Post, "/v1/teams", admin.Access, new { name })).ProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        await (await F.SendAsync(HttpMethod.Patch, "/v1/teams/" + teamId, admin.Access, new { name = name + "-x" })).BodyAsync(HttpStatusCode.OK);
        await (await F.SendAsync(HttpMethod.Put, $"/v1/teams/{teamId}/members/{id}", admin.Access)).BodyAsync(HttpStatusCode.OK);

        var t = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        Assert.Equal([teamId], Jwt(t.Access).GetPayloadValue<string[]>(ClaimNames.Teams));
        var got = await (await F.SendAsync(HttpMethod.Get, "/v1/teams/" + teamId, t.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(name + "-x", (string?)got["name"]);

        await (await F.SendAsync(HttpMethod.Delete, $"/v1/teams/{teamId}/members/{id}", admin.Access)).BodyAsync(HttpStatusCode.OK);
        await (await F.SendAsync(HttpMethod.Delete, "/v1/teams/" + teamId, admin.Access)).BodyAsync(HttpStatusCode.NoContent);
        await (await F.SendAsync(HttpMethod.Get, "/v1/teams/" + teamId, admin.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        var after = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        Assert.Empty(Jwt(after.Access).GetPayloadValue<string[]>(ClaimNames.Teams));
    }

    [SuiteFact]
    public async Task Orgs_are_isolated_and_multi_org_users_choose_at_sign_in()
    {
        var adminA = await F.AdminAsync();
        var orgA = Jwt(adminA.Access).GetPayloadValue<string>(ClaimNames.Org);
        var (_, founderEmail) = await F.CreateUserAsync("mod", adminA);
        var founderA = await F.LoginOkAsync(founderEmail, ControlPlaneFixture.DefaultPassword);
        var orgB = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", founderA.Access, new { name = "Beta" })).BodyAsync(HttpStatusCode.Created))["id"]!;

        var ambiguous = await (await F.LoginAsync(founderEmail, ControlPlaneFixture.DefaultPassword)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.NotNull(ambiguous["errors"]!["org_id"]);
        var founderB = await F.LoginOkAsync(founderEmail, ControlPlaneFixture.DefaultPassword, orgB);
        Assert.Equal(orgB, Jwt(founderB.Access).GetPayloadValue<string>(ClaimNames.Org));

        var (bUser, _) = await F.CreateUserAsync("explore", founderB);
        var bTeam = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/teams", founderB.Access, new { name = "b-team" })).BodyAsync(HttpStatusCode.Created))["id"]!;
        var bSession = Jwt(founderB.Access).GetPayloadValue<string>(ClaimNames.SessionId);

        // Org A's mod sees none of org B's things: every id is simply not found.
        await (await F.SendAsync(HttpMethod.Get, "/v1/users/" + bUser, adminA.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{bUser}/deactivate", adminA.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Get, $"/v1/users/{bUser}/sessions", adminA.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Get, "/v1/teams/" + bTeam, adminA.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Delete, "/v1/sessions/" + bSession, adminA.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        var usersA = await (await F.SendAsync(HttpMethod.Get, "/v1/users", adminA.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(usersA.AsArray(), u => (string?)u!["id"] == bUser);
        var auditA = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?limit=500", adminA.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.All(auditA["items"]!.AsArray(), e => Assert.Equal(orgA, (string?)e!["orgId"]));
        // A's mod cannot take over the founder's other org by resetting the shared password.
        var founderId = Jwt(founderA.Access).Subject;
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{founderId}/password", adminA.Access, new { new_password = "T4keover!" }))
            .ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        // And B's session survived A's attempts.
        await (await F.SendAsync(HttpMethod.Get, "/v1/teams", founderB.Access)).BodyAsync(HttpStatusCode.OK);
    }

    [SuiteFact]
    public async Task Key_rotation_publishes_before_signing_and_keeps_the_old_key_until_its_tokens_expire()
    {
        var admin = await F.AdminAsync();
        var oldToken = admin.Access;
        var oldKid = Jwt(oldToken).Kid;

        var rotated = await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", admin.Access)).BodyAsync(HttpStatusCode.OK);
        var newKid = (string)rotated["kid"]!;
        Assert.Equal("pending", (string?)rotated["state"]);
        var jwks = await JwksAsync();
        Assert.Contains(jwks.Keys, k => k.Kid == newKid);
        // Pre-publish: the new key is visible but the old one still signs.
        Assert.Equal(oldKid, Jwt((await F.AdminAsync()).Access).Kid);

        F.Time.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(1));
        var fresh = await F.AdminAsync();
        Assert.Equal(newKid, Jwt(fresh.Access).Kid);
        // Overlap: a token signed by the old key still verifies against JWKS.
        Assert.True(await SignatureVerifiesAgainstJwksAsync(oldToken));
        var list = await (await F.SendAsync(HttpMethod.Get, "/v1/signing-keys", fresh.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("verifying", (string?)list.AsArray().Single(k => (string?)k!["kid"] == oldKid)!["state"]);
        Assert.Equal("active", (string?)list.AsArray().Single(k => (string?)k!["kid"] == newKid)!["state"]);

        // After max TTL (1 h) + skew the old key retires and leaves JWKS.
        F.Time.Advance(TimeSpan.FromMinutes(61) + TimeSpan.FromSeconds(1));
        Assert.DoesNotContain((await JwksAsync()).Keys, k => k.Kid == oldKid);
        Assert.False(await SignatureVerifiesAgainstJwksAsync(oldToken));
        fresh = await F.AdminAsync();
        list = await (await F.SendAsync(HttpMethod.Get, "/v1/signing-keys", fresh.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("retired", (string?)list.AsArray().Single(k => (string?)k!["kid"] == oldKid)!["state"]);

        // The time-driven steps are audited once each (system chain), however often the job runs.
        var keys = F.Services.GetRequiredService<SigningKeys.SigningKeyStore>();
        await keys.RecordTransitionsAsync();
        await keys.RecordTransitionsAsync();
        Assert.Equal(1L, await F.InspectAsync<long>(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = '_system' AND event = 'signing_key_activated' AND details LIKE @k", new { k = $"%{newKid}%" }));
        Assert.Equal(1L, await F.InspectAsync<long>(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = '_system' AND event = 'signing_key_retired' AND details LIKE @k", new { k = $"%{oldKid}%" }));
    }

    [SuiteFact]
    public async Task Revoking_a_key_removes_it_from_jwks_at_once_and_a_new_key_signs()
    {
        var admin = await F.AdminAsync();
        var kid = Jwt(admin.Access).Kid;
        Assert.True(await SignatureVerifiesAgainstJwksAsync(admin.Access));
        await (await F.SendAsync(HttpMethod.Post, $"/v1/signing-keys/{kid}/revoke", admin.Access)).BodyAsync(HttpStatusCode.NoContent);
        Assert.DoesNotContain((await JwksAsync()).Keys, k => k.Kid == kid);
        Assert.False(await SignatureVerifiesAgainstJwksAsync(admin.Access));
        // The old token is no longer accepted by the admin API either.
        await (await F.SendAsync(HttpMethod.Get, "/v1/signing-keys", admin.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        var fresh = await F.AdminAsync();
        Assert.NotEqual(kid, Jwt(fresh.Access).Kid);
        Assert.True(await SignatureVerifiesAgainstJwksAsync(fresh.Access));
        await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/k_missing/revoke", fresh.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        // Private keys are sealed at rest, never stored as plain PKCS#8.
        var sealedValue = await F.InspectAsync<string>("SELECT sealed_private FROM signing_keys WHERE kid = @kid", new { kid });
        Assert.False(Convert.FromBase64String(sealedValue).AsSpan().StartsWith(new byte[] { 0x30, 0x81 }));
    }

    [SuiteFact]
    public async Task Scheduled_rotation_starts_a_new_key_after_the_interval()
    {
        var before = await (await F.SendAsync(HttpMethod.Get, "/v1/signing-keys", (await F.AdminAsync()).Access)).BodyAsync(HttpStatusCode.OK);
        F.Time.Advance(TimeSpan.FromDays(31));
        await F.Services.GetRequiredService<MaintenanceService>().RunOnceAsync(CancellationToken.None);
        var after = await (await F.SendAsync(HttpMethod.Get, "/v1/signing-keys", (await F.AdminAsync()).Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(before.AsArray().Count + 1, after.AsArray().Count);
        Assert.Contains(after.AsArray(), k => (string?)k!["state"] == "pending");
    }

    [SuiteFact]
    public async Task Discovery_documents()
    {
        var oidc = await (await F.Http.GetAsync("/.well-known/openid-configuration")).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("http://localhost:5100", (string?)oidc["issuer"]);
        Assert.Equal("http://localhost:5100/.well-known/jwks.json", (string?)oidc["jwks_uri"]);
        Assert.Contains("ES256", oidc["id_token_signing_alg_values_supported"]!.ToJsonString());
        var openapi = await (await F.Http.GetAsync("/openapi/v1.json")).BodyAsync(HttpStatusCode.OK);
        Assert.NotNull(openapi["paths"]!["/v1/auth/login"]);
        Assert.True((await F.Http.GetAsync("/docs/")).IsSuccessStatusCode);
        await (await F.Http.GetAsync("/v1/nothing-here")).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }

    [SuiteFact]
    public async Task Every_audit_event_type_is_produced_and_none_holds_secrets()
    {
        var admin = await F.AdminAsync();
        var (id, email) = await F.CreateUserAsync("explore", admin);
        await F.LoginAsync(email, "Wr0ng!pass");
        for (var i = 0; i < 5; i++) await F.LoginAsync(email, "Wr0ng!pass");
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
            Assert.NotNull(sample[field]);
        foreach (var secret in new[] { ControlPlaneFixture.DefaultPassword, "N3w!passw", "Wr0ng!pass", t1.Refresh, r1, t1.Access, ControlPlaneFixture.AdminPassword })
            Assert.DoesNotContain(secret, ndjson, StringComparison.Ordinal);
    }

    [SuiteFact]
    public async Task Audit_filters_and_cursor_pagination()
    {
        var admin = await F.AdminAsync();
        var (id, email) = await F.CreateUserAsync("explore", admin);
        for (var i = 0; i < 3; i++) await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
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
    public async Task Org_settings_change_the_access_token_lifetime()
    {
        var admin = await F.AdminAsync();
        var (_, email) = await F.CreateUserAsync(admin: admin);
        var explorer = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        await (await F.SendAsync(HttpMethod.Patch, "/v1/org", explorer.Access, new { access_token_ttl_seconds = 300 })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await F.SendAsync(HttpMethod.Patch, "/v1/org", admin.Access, new { access_token_ttl_seconds = 7200 })).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var org = await (await F.SendAsync(HttpMethod.Patch, "/v1/org", admin.Access, new { access_token_ttl_seconds = 300 })).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(300, (int)org["access_token_ttl_seconds"]!);
        try
        {
            var body = await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).BodyAsync(HttpStatusCode.OK);
            Assert.Equal(300, (int)body["expires_in"]!);
            var jwt = Jwt((string)body["access_token"]!);
            Assert.Equal(TimeSpan.FromMinutes(5), jwt.ValidTo - jwt.IssuedAt);
        }
        finally
        {
            await (await F.SendAsync(HttpMethod.Patch, "/v1/org", admin.Access, new { access_token_ttl_seconds = 900 })).BodyAsync(HttpStatusCode.OK);
        }
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
    public async Task Parallel_wrong_guesses_are_all_counted()
    {
        var (_, email) = await F.CreateUserAsync();
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => F.LoginAsync(email, "Wr0ng!pass")));
        await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).ProblemAsync((HttpStatusCode)423, ErrorCodes.AccountLocked);
    }

    [SuiteFact]
    public async Task A_second_instance_on_the_same_store_migrates_idempotently_and_shares_keys()
    {
        var users = await F.InspectAsync<long>("SELECT COUNT(*) FROM users");
        var keys = await F.InspectAsync<long>("SELECT COUNT(*) FROM signing_keys");
        var (app, http) = await F.StartAnotherInstanceAsync();
        await using (app)
        using (http)
        {
            Assert.Equal(users, await F.InspectAsync<long>("SELECT COUNT(*) FROM users"));
            Assert.Equal(keys, await F.InspectAsync<long>("SELECT COUNT(*) FROM signing_keys"));
            Assert.Equal((long)Storage.Schema.All.Length, await F.InspectAsync<long>("SELECT COUNT(*) FROM schema_migrations"));
            // A token from one instance works on the other.
            var r = await http.PostAsJsonAsync("/v1/auth/login", new { email = ControlPlaneFixture.AdminEmail, password = ControlPlaneFixture.AdminPassword });
            var token = (string)(await r.BodyAsync(HttpStatusCode.OK))["access_token"]!;
            await (await F.SendAsync(HttpMethod.Get, "/v1/users", token)).BodyAsync(HttpStatusCode.OK);
            await app.StopAsync();
        }
    }

    [SuiteFact]
    public async Task Malformed_requests_are_validation_failures()
    {
        using var content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json");
        await (await F.Http.PostAsync("/v1/auth/login", content)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?from=yesterday", (await F.AdminAsync()).Access))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var missing = await (await F.Http.PostAsJsonAsync("/v1/auth/login", new { email = "a@b.c" })).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.NotNull(missing["errors"]!["password"]);
    }
}

public sealed class SqliteSuite(SqliteFixture f) : ControlPlaneSuite(f), IClassFixture<SqliteFixture>;
