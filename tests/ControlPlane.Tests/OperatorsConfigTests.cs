using System.Net;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

/// <summary>SQLite with one platform operator listed by email in <c>ControlPlane:Operators</c>.</summary>
public sealed class ListedOperatorFixture : SqliteFixtureBase
{
    public const string OperatorEmail = "ops@acme.test";
    protected override IEnumerable<string> ExtraArguments => ["--ControlPlane:Operators:0=OPS@acme.test"];
}

public sealed class ListedOperatorTests(ListedOperatorFixture f) : IClassFixture<ListedOperatorFixture>
{
    [Fact]
    public async Task A_user_listed_in_Operators_may_create_orgs_and_an_unlisted_one_may_not()
    {
        var admin = await f.AdminAsync();
        await (await f.SendAsync(HttpMethod.Post, "/v1/users", admin.Access,
            new { email = ListedOperatorFixture.OperatorEmail, password = ControlPlaneFixture.DefaultPassword, role = "explore" })).BodyAsync(HttpStatusCode.Created);
        var (_, otherEmail) = await f.CreateUserAsync("explore", admin);
        var listed = await f.LoginOkAsync(ListedOperatorFixture.OperatorEmail, ControlPlaneFixture.DefaultPassword);
        var other = await f.LoginOkAsync(otherEmail, ControlPlaneFixture.DefaultPassword);
        await (await f.SendAsync(HttpMethod.Post, "/v1/orgs", other.Access, new { name = "No" })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await f.SendAsync(HttpMethod.Post, "/v1/orgs", listed.Access, new { name = "Yes" })).BodyAsync(HttpStatusCode.Created);
    }
}

/// <summary>SQLite with self-service org creation switched on.</summary>
public sealed class SelfServiceOrgsFixture : SqliteFixtureBase
{
    protected override IEnumerable<string> ExtraArguments => ["--ControlPlane:Orgs:SelfService=true"];
}

public sealed class SelfServiceOrgsTests(SelfServiceOrgsFixture f) : IClassFixture<SelfServiceOrgsFixture>
{
    [Fact]
    public async Task With_self_service_a_tenant_mod_founds_orgs_but_still_mints_no_edge_keys()
    {
        var admin = await f.AdminAsync();
        var (_, founderEmail) = await f.CreateUserAsync("mod", admin);
        var founder = await f.LoginOkAsync(founderEmail, ControlPlaneFixture.DefaultPassword);
        var org = (string)(await (await f.SendAsync(HttpMethod.Post, "/v1/orgs", founder.Access, new { name = "T" })).BodyAsync(HttpStatusCode.Created))["id"]!;
        var inTenant = await f.LoginOkAsync(founderEmail, ControlPlaneFixture.DefaultPassword, org);
        var (_, tenantModEmail) = await f.CreateUserAsync("mod", inTenant);
        var tenantMod = await f.LoginOkAsync(tenantModEmail, ControlPlaneFixture.DefaultPassword);
        await (await f.SendAsync(HttpMethod.Post, "/v1/orgs", tenantMod.Access, new { name = "T2" })).BodyAsync(HttpStatusCode.Created);
        await (await f.SendAsync(HttpMethod.Post, "/v1/api-keys", tenantMod.Access, new { name = "edge", scopes = new[] { "edge:sync" }, environment = "live" }))
            .ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }
}
