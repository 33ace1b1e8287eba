using System.Net;
using Authio.ControlPlane.Hosting;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
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

        // The time-driven steps are audited once each (in the key's org), however often the job runs.
        var keys = F.Services.GetRequiredService<SigningKeys.SigningKeyStore>();
        await keys.RecordTransitionsAsync();
        await keys.RecordTransitionsAsync();
        Assert.Equal(1L, await F.InspectAsync<long>(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = @org AND event = 'signing_key_activated' AND details LIKE @k", new { k = $"%{newKid}%", org = Jwt(fresh.Access).GetPayloadValue<string>(ClaimNames.Org) }));
        Assert.Equal(1L, await F.InspectAsync<long>(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = @org AND event = 'signing_key_retired' AND details LIKE @k", new { k = $"%{oldKid}%", org = Jwt(fresh.Access).GetPayloadValue<string>(ClaimNames.Org) }));
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
}
