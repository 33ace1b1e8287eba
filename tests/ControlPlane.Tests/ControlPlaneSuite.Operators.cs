using System.Net;
using System.Security.Cryptography;
using Authio.Shared.ApiKeys;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task A_tenant_mod_cannot_act_for_the_platform()
    {
        var admin = await F.AdminAsync();
        var (_, tenantOrg, tenantMod) = await TenantAsync(admin);

        // Neither new orgs nor edge keys (which read every org's keys and revocations) from a tenant org's mod.
        var orgs = await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", tenantMod.Access, new { name = "Mine" })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        Assert.Contains("operator", (string?)orgs["detail"]);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", tenantMod.Access,
            new { name = "edge", scopes = new[] { EdgeApiKeyPaths.EdgeSyncScope }, environment = "live" })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM api_keys WHERE org_id = @tenantOrg", new { tenantOrg }));
        // Its own org's ordinary keys still work as before.
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", tenantMod.Access, new { name = "app", scopes = new[] { "admin" }, environment = "live" }))
            .BodyAsync(HttpStatusCode.Created);

        // An edge:sync key that exists in a tenant org anyway (e.g. minted before operators existed) is refused by every edge endpoint.
        var legacy = ApiKeyFormat.Generate(ApiKeyEnvironment.Live);
        var digest = System.Buffers.Text.Base64Url.EncodeToString(ApiKeyFormat.ComputeDigest(legacy));
        var keyId = "ak_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        await F.ExecuteAsync("""
            INSERT INTO api_keys (org_id, id, name, prefix, scopes, environment, created_by, created_at) VALUES (@tenantOrg, @keyId, 'old edge', 'sk_live_xxxx', 'edge:sync', 'live', 'usr_x', 0);
            INSERT INTO api_key_secrets (digest, org_id, key_id, created_at) VALUES (@digest, @tenantOrg, @keyId, 0);
            """, new { tenantOrg, keyId, digest });
        await (await F.SendAsync(HttpMethod.Get, "/v1/edge/snapshot", legacy)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await F.SendAsync(HttpMethod.Post, EdgeApiKeyPaths.Lookup, legacy, new { digest })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    [SuiteFact]
    public async Task Only_mods_of_the_operator_org_are_operators()
    {
        var admin = await F.AdminAsync();
        var (_, createEmail) = await F.CreateUserAsync("create", admin);
        var member = await F.LoginOkAsync(createEmail, ControlPlaneFixture.DefaultPassword);
        await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", member.Access, new { name = "Nope" })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        // The operator org's mods: edge keys (and their rotation) and new orgs.
        var edge = await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", admin.Access,
            new { name = "edge", scopes = new[] { EdgeApiKeyPaths.EdgeSyncScope }, environment = "live" })).BodyAsync(HttpStatusCode.Created);
        await (await F.SendAsync(HttpMethod.Get, "/v1/edge/snapshot", (string)edge["key"]!)).BodyAsync(HttpStatusCode.OK);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/api-keys/{(string)edge["id"]!}/rotate", admin.Access, new { })).BodyAsync(HttpStatusCode.Created);
        Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM orgs WHERE is_operator = 1"));
    }

    /// <summary>A tenant org (founded by an operator-org mod, who then stays its mod) and a second mod of it: (founder, org, tenant mod).</summary>
    private async Task<(Tokens Founder, string OrgId, Tokens Mod)> TenantAsync(Tokens admin)
    {
        var (_, founderEmail) = await F.CreateUserAsync("mod", admin);
        var founder = await F.LoginOkAsync(founderEmail, ControlPlaneFixture.DefaultPassword);
        var orgId = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", founder.Access, new { name = "Tenant " + Guid.NewGuid().ToString("N")[..6] }))
            .BodyAsync(HttpStatusCode.Created))["id"]!;
        var inTenant = await F.LoginOkAsync(founderEmail, ControlPlaneFixture.DefaultPassword, orgId);
        var (_, modEmail) = await F.CreateUserAsync("mod", inTenant);
        return (founder, orgId, await F.LoginOkAsync(modEmail, ControlPlaneFixture.DefaultPassword));
    }
}
