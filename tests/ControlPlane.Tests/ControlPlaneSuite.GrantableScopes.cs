using System.Net;
using System.Text.Json.Nodes;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task The_scope_list_marks_what_the_caller_may_grant_and_creation_agrees()
    {
        var admin = await F.AdminAsync();
        var (_, explorerEmail) = await F.CreateUserAsync("explore", admin);
        var explorer = await F.LoginOkAsync(explorerEmail, ControlPlaneFixture.DefaultPassword);

        static bool Grantable(JsonNode list, string name) => (bool)list.AsArray().Single(s => (string?)s!["name"] == name)!["grantable"]!;

        // The bootstrap mod (operator org, an edge org) may grant everything, edge:sync included.
        var forAdmin = await (await F.SendAsync(HttpMethod.Get, "/v1/api-key-scopes", admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.All(forAdmin.AsArray(), s => Assert.True((bool)s!["grantable"]!, (string?)s["name"]));

        // An explorer holds read:* only: read scopes yes; write, admin and edge:sync no.
        var forExplorer = await (await F.SendAsync(HttpMethod.Get, "/v1/api-key-scopes", explorer.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.True(Grantable(forExplorer, "read:applications"));
        Assert.False(Grantable(forExplorer, "write:applications"));
        Assert.False(Grantable(forExplorer, "admin"));
        Assert.False(Grantable(forExplorer, "edge:sync"));

        // What the list says is what creation does.
        Assert.Equal(HttpStatusCode.Created, (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", explorer.Access,
            new { name = "reader", scopes = new[] { "read:applications" }, environment = "test" })).StatusCode);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", explorer.Access,
            new { name = "writer", scopes = new[] { "write:applications" }, environment = "test" })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        // A mod of another org (not an edge org) may grant admin there, but not edge:sync.
        var (_, founderEmail) = await F.CreateUserAsync("mod", admin);
        var founder = await F.LoginOkAsync(founderEmail, ControlPlaneFixture.DefaultPassword);
        var orgB = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", founder.Access, new { name = "Grant B" })).BodyAsync(HttpStatusCode.Created))["id"]!;
        var founderB = await F.LoginOkAsync(founderEmail, ControlPlaneFixture.DefaultPassword, orgB);
        var forFounderB = await (await F.SendAsync(HttpMethod.Get, "/v1/api-key-scopes", founderB.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.True(Grantable(forFounderB, "admin"));
        Assert.False(Grantable(forFounderB, "edge:sync"));
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", founderB.Access,
            new { name = "edge", scopes = new[] { "edge:sync" }, environment = "live" })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }
}
