using System.Net;
using Authio.ControlPlane.SigningKeys;
using Authio.Shared.Errors;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task A_platform_operator_revokes_any_orgs_key_in_an_emergency_and_a_tenant_mod_cannot()
    {
        var admin = await F.AdminAsync();
        var (_, orgId, tenantMod) = await TenantAsync(admin);
        var tenantEmail = await EmailOfAsync(tenantMod);
        var kid = (string)(await (await F.SendAsync(HttpMethod.Get, "/v1/signing-keys", tenantMod.Access)).BodyAsync(HttpStatusCode.OK))
            .AsArray().Single(k => (string)k!["state"]! == "active")!["kid"]!;
        var operatorKid = (string)(await (await F.SendAsync(HttpMethod.Get, "/v1/signing-keys", admin.Access)).BodyAsync(HttpStatusCode.OK))
            .AsArray().First(k => (string)k!["state"]! == "active")!["kid"]!;

        // A tenant's mod is no operator: not for another org's key, not even for its own.
        await (await F.SendAsync(HttpMethod.Post, $"/v1/platform/signing-keys/{operatorKid}/revoke", tenantMod.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/platform/signing-keys/{kid}/revoke", tenantMod.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await F.SendAsync(HttpMethod.Get, "/v1/org", admin.Access)).BodyAsync(HttpStatusCode.OK);

        // The operator revokes the tenant's signing key: its tokens stop at once, the org signs with a new key.
        await (await F.SendAsync(HttpMethod.Post, $"/v1/platform/signing-keys/k_{Guid.NewGuid():N}/revoke", admin.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        using (var revoked = await F.SendAsync(HttpMethod.Post, $"/v1/platform/signing-keys/{kid}/revoke", admin.Access))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        await (await F.SendAsync(HttpMethod.Get, "/v1/org", tenantMod.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.DoesNotContain($"\"{kid}\"", await F.Http.GetStringAsync("/.well-known/jwks.json"), StringComparison.Ordinal);
        var fresh = await F.LoginOkAsync(tenantEmail, ControlPlaneFixture.DefaultPassword, orgId);
        var keys = (await (await F.SendAsync(HttpMethod.Get, "/v1/signing-keys", fresh.Access)).BodyAsync(HttpStatusCode.OK)).AsArray();
        Assert.Equal("revoked", (string)keys.Single(k => (string)k!["kid"]! == kid)!["state"]!);
        Assert.Contains(keys, k => (string)k!["state"]! == "active");

        // Audited where it happened (the key's org, the operator as actor) and in the operator's own org.
        var tenantAudit = await AuditEventsAsync(fresh.Access, "event=signing_key_revoked");
        Assert.Single(tenantAudit);
        Assert.Contains("platform_signing_key_revoked", await AuditEventsAsync(admin.Access, "event=platform_signing_key_revoked"));
        // The operator's own org is untouched.
        await (await F.SendAsync(HttpMethod.Get, "/v1/org", admin.Access)).BodyAsync(HttpStatusCode.OK);
    }

    [SuiteFact]
    public async Task One_orgs_broken_key_ring_does_not_stop_the_scheduled_rotation_of_the_others()
    {
        var admin = await F.AdminAsync();
        var (_, broken, _) = await TenantAsync(admin);
        var (_, healthy, _) = await TenantAsync(admin);
        var sealedKey = await F.InspectAsync<string>("SELECT sealed_key FROM org_data_keys WHERE org_id = @broken", new { broken });
        var now = F.Time.GetUtcNow().ToUnixTimeMilliseconds();
        // Both orgs need a signer; the broken org's data key no longer unseals (whatever went wrong with its row).
        await F.ExecuteAsync("UPDATE signing_keys SET revoked_at = @now WHERE org_id IN (@broken, @healthy) AND revoked_at IS NULL", new { now, broken, healthy });
        await F.ExecuteAsync("UPDATE org_data_keys SET sealed_key = 'AAAA' WHERE org_id = @broken", new { broken });
        try
        {
            await F.Services.GetRequiredService<SigningKeyStore>().RotateIfDueAsync(CancellationToken.None);
            Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM signing_keys WHERE org_id = @healthy AND revoked_at IS NULL", new { healthy }));
            Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM signing_keys WHERE org_id = @broken AND revoked_at IS NULL", new { broken }));
            Assert.Contains(F.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("[1904]", StringComparison.Ordinal)
                && l.Contains(broken, StringComparison.Ordinal));
        }
        finally
        {
            await F.ExecuteAsync("UPDATE org_data_keys SET sealed_key = @sealedKey WHERE org_id = @broken", new { sealedKey, broken });
        }
        // Mended, the org gets its signer at the next round.
        await F.Services.GetRequiredService<SigningKeyStore>().RotateIfDueAsync(CancellationToken.None);
        Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM signing_keys WHERE org_id = @broken AND revoked_at IS NULL", new { broken }));
    }

    private async Task<string> EmailOfAsync(Tokens user)
    {
        var sub = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(user.Access).Subject;
        var me = await (await F.SendAsync(HttpMethod.Get, $"/v1/users/{sub}", user.Access)).BodyAsync(HttpStatusCode.OK);
        return (string)me["email"]!;
    }
}
