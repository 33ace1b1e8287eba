using System.Net;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
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
        // A wrong password for a person in two orgs is visible to both orgs' admins.
        await (await F.LoginAsync(founderEmail, "Wr0ng!pass")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.Contains("login_failed", await AuditEventsAsync(founderB.Access, "userId=" + founderId));
        Assert.Contains("login_failed", await AuditEventsAsync(adminA.Access, "userId=" + founderId));
        // And B's session survived A's attempts.
        await (await F.SendAsync(HttpMethod.Get, "/v1/teams", founderB.Access)).BodyAsync(HttpStatusCode.OK);
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
}
