using System.Net;
using System.Text.Json;
using Authio.Shared.Tokens;

namespace Authio.ControlPlane.Tests;

/// <summary>Project roles in access tokens (<c>projects</c>) and the shared scope grammar on the control plane's side.</summary>
public abstract partial class ControlPlaneSuite
{
    private static JsonElement ProjectsOf(string accessToken) =>
        Jwt(accessToken).TryGetPayloadValue<JsonElement>(ClaimNames.Projects, out var projects) ? projects : default;

    [SuiteFact]
    public async Task Access_tokens_carry_project_roles_and_removing_one_ends_the_users_sessions()
    {
        var admin = await F.AdminAsync();
        var (id, email) = await F.CreateUserAsync("explore", admin);
        var before = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        Assert.Equal(JsonValueKind.Undefined, ProjectsOf(before.Access).ValueKind);

        Assert.Equal(HttpStatusCode.OK, (await F.SendAsync(HttpMethod.Put, $"/v1/users/{id}/role", admin.Access, new { role = "mod", project_id = "prj_b" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await F.SendAsync(HttpMethod.Put, $"/v1/users/{id}/role", admin.Access, new { role = "create", project_id = "prj_a" })).StatusCode);
        // Adding a project role does not end sessions; the next token names it.
        Assert.Equal(HttpStatusCode.OK, (await F.SendAsync(HttpMethod.Get, "/v1/org", before.Access)).StatusCode);
        var refreshed = await RefreshAsync(before.Refresh);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var token = JsonDocument.Parse(await refreshed.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
        var projects = ProjectsOf(token);
        Assert.Equal("mod", projects.GetProperty("prj_b").GetString());
        Assert.Equal("create", projects.GetProperty("prj_a").GetString());
        Assert.Equal("explore", Jwt(token).GetPayloadValue<string>(ClaimNames.Role));

        // A token naming a project role that was removed must not outlive it: the user's sessions end.
        Assert.Equal(HttpStatusCode.OK, (await F.SendAsync(HttpMethod.Delete, $"/v1/users/{id}/role?project_id=prj_b", admin.Access)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await F.SendAsync(HttpMethod.Get, "/v1/org", token)).StatusCode);
        var again = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        Assert.False(ProjectsOf(again.Access).TryGetProperty("prj_b", out _));

        // Lowering one ends them too.
        Assert.Equal(HttpStatusCode.OK, (await F.SendAsync(HttpMethod.Put, $"/v1/users/{id}/role", admin.Access, new { role = "explore", project_id = "prj_a" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await F.SendAsync(HttpMethod.Get, "/v1/org", again.Access)).StatusCode);
    }

    [SuiteFact]
    public async Task A_held_wildcard_covers_what_it_may_grant_on_an_api_key_but_not_admin()
    {
        var admin = await F.AdminAsync();
        var (_, email) = await F.CreateUserAsync("create", admin);
        var creator = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        // read:* and write:* cover the built-in read:leads and write:leads (the shared grammar); admin is never theirs to give.
        Assert.Equal(HttpStatusCode.Created,
            (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", creator.Access, new { name = "ok", scopes = new[] { "read:leads", "write:leads" }, environment = "live" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", creator.Access, new { name = "no", scopes = new[] { "admin" }, environment = "live" })).StatusCode);
    }
}
