using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.SigningKeys;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.Tests;

/// <summary>Per-org signing keys: each org's ring is its own, and no org's mod can touch or impersonate another's.</summary>
public abstract partial class ControlPlaneSuite
{
    private async Task<List<JsonNode>> SigningKeysAsync(string access) =>
        (await (await F.SendAsync(HttpMethod.Get, "/v1/signing-keys", access)).BodyAsync(HttpStatusCode.OK)).AsArray().Select(k => k!).ToList();

    /// <summary>A fresh token pair for the user of <paramref name="tokens"/> in its org (after time passed or its key was revoked).</summary>
    private async Task<Tokens> ReloginAsync(Tokens tokens)
    {
        var email = await F.InspectAsync<string>("SELECT email FROM users WHERE id = @id", new { id = Jwt(tokens.Access).Subject });
        return await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, OrgOf(tokens.Access));
    }

    private static string OrgOf(string access) => new JsonWebToken(access).GetPayloadValue<string>(ClaimNames.Org);

    /// <summary>A token with <paramref name="claimsFrom"/>'s claims but <paramref name="org"/> as its org, signed by <paramref name="signer"/>.</summary>
    private string Forge(string claimsFrom, string org, SigningCredentials signer)
    {
        var source = new JsonWebToken(claimsFrom);
        var now = F.Time.GetUtcNow();
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = source.Issuer,
            Audience = source.Audiences.First(),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.AddMinutes(10).UtcDateTime,
            TokenType = ClaimNames.AccessTokenType,
            SigningCredentials = signer,
            Claims = new Dictionary<string, object>
            {
                [ClaimNames.Subject] = source.Subject,
                [ClaimNames.Org] = org,
                [ClaimNames.SessionId] = source.GetPayloadValue<string>(ClaimNames.SessionId),
                [ClaimNames.TokenId] = Guid.NewGuid().ToString("N"),
                [ClaimNames.Scope] = source.GetPayloadValue<string>(ClaimNames.Scope),
                [ClaimNames.Role] = source.GetPayloadValue<string>(ClaimNames.Role),
            },
        });
    }

    [SuiteFact]
    public async Task Each_org_signs_with_its_own_keys_and_another_orgs_mod_gets_403_on_every_key_action()
    {
        var adminA = await F.AdminAsync();
        var orgA = OrgOf(adminA.Access);
        var (orgB, modB) = await OtherOrgAsync(adminA);

        var keysA = await SigningKeysAsync(adminA.Access);
        var keysB = await SigningKeysAsync(modB.Access);
        // Each org's tokens are signed by its own active key; the lists never overlap.
        Assert.Contains(keysA, k => (string?)k["kid"] == Jwt(adminA.Access).Kid && (string?)k["state"] == "active");
        Assert.Contains(keysB, k => (string?)k["kid"] == Jwt(modB.Access).Kid && (string?)k["state"] == "active");
        Assert.Empty(keysA.Select(k => (string)k["kid"]!).Intersect(keysB.Select(k => (string)k["kid"]!)));
        // JWKS carries both orgs' keys, each naming its org.
        var jwks = JsonNode.Parse(await F.Http.GetStringAsync("/.well-known/jwks.json"))!["keys"]!.AsArray();
        Assert.Equal(orgA, (string?)jwks.Single(k => (string?)k!["kid"] == Jwt(adminA.Access).Kid)!["org"]);
        Assert.Equal(orgB, (string?)jwks.Single(k => (string?)k!["kid"] == Jwt(modB.Access).Kid)!["org"]);

        // Org B's mod: 403 on reading, revoking (any of org A's keys) — nothing changes for org A.
        foreach (var kid in keysA.Select(k => (string)k["kid"]!))
        {
            await (await F.SendAsync(HttpMethod.Get, $"/v1/signing-keys/{kid}", modB.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
            await (await F.SendAsync(HttpMethod.Post, $"/v1/signing-keys/{kid}/revoke", modB.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        }
        // Rotation and data-key rotation act on the caller's org only.
        await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", modB.Access)).BodyAsync(HttpStatusCode.OK);
        await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/data-key/rotate", modB.Access)).BodyAsync(HttpStatusCode.OK);
        var sealedA = await F.InspectAsync<string>("SELECT sealed_key FROM org_data_keys WHERE org_id = @orgA", new { orgA });
        Assert.Equal(keysA.Select(k => (string?)k["kid"] + k["state"]), (await SigningKeysAsync(adminA.Access)).Select(k => (string?)k["kid"] + k["state"]));
        Assert.Equal(sealedA, await F.InspectAsync<string>("SELECT sealed_key FROM org_data_keys WHERE org_id = @orgA", new { orgA }));
        Assert.Equal(Jwt(adminA.Access).Kid, Jwt((await F.AdminAsync()).Access).Kid);
        Assert.DoesNotContain(await SigningKeysAsync(modB.Access), k => keysA.Any(a => (string?)a["kid"] == (string?)k["kid"]));
        // Org B revokes its own active key: org A's token still works.
        await (await F.SendAsync(HttpMethod.Post, $"/v1/signing-keys/{Jwt(modB.Access).Kid}/revoke", modB.Access)).BodyAsync(HttpStatusCode.NoContent);
        await (await F.SendAsync(HttpMethod.Get, "/v1/signing-keys", adminA.Access)).BodyAsync(HttpStatusCode.OK);
        // The key actions are audited in the key's org (org B), not in org A.
        Assert.Equal(0L, await F.InspectAsync<long>(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = @orgA AND event IN ('signing_key_revoked', 'signing_data_key_rotated') AND actor_id = @b",
            new { orgA, b = Jwt(modB.Access).Subject }));
        Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgB AND event = 'signing_key_revoked'", new { orgB }));
    }

    [SuiteFact]
    public async Task A_token_claiming_another_org_is_refused_even_with_a_valid_signature_of_a_published_key()
    {
        var adminA = await F.AdminAsync();
        var orgA = OrgOf(adminA.Access);
        var (orgB, modB) = await OtherOrgAsync(adminA);
        // Org B's real private key (as a malicious insider of org B or a leak of it would have it).
        var keyB = await F.Services.GetRequiredService<SigningKeyStore>().SigningCredentialsAsync(orgB);

        var forged = Forge(adminA.Access, orgA, keyB);
        Assert.True(await SignatureVerifiesAgainstJwksAsync(forged));
        await (await F.SendAsync(HttpMethod.Get, "/v1/users", forged)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        var edge = await EdgeKeyAsync(adminA);
        Assert.False((bool)(await IntrospectAsync(edge, forged))["active"]!);
        // The same forgery naming org B (the key's own org) is accepted: only the org binding refused it above.
        var genuine = Forge(modB.Access, orgB, keyB);
        await (await F.SendAsync(HttpMethod.Get, "/v1/users", genuine)).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)(await IntrospectAsync(edge, adminA.Access))["active"]!);
    }

    [SuiteFact]
    public async Task Rotation_is_limited_per_org_per_hour_with_429_and_retry_after()
    {
        var adminA = await F.AdminAsync();
        var (_, modB) = await OtherOrgAsync(adminA);
        var options = F.Services.GetRequiredService<ControlPlaneOptions>().SigningKeys;
        var bound = options.MaxPublishedPerOrg;
        options.MaxPublishedPerOrg = 20;
        try
        {
            // The org's first key counts: 9 more rotations make 10 keys this hour.
            for (var i = 0; i < 9; i++)
            {
                await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", modB.Access)).BodyAsync(HttpStatusCode.OK);
            }

            var refused = await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", modB.Access);
            var retryAfter = (int)refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds;
            await refused.ProblemAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimitExceeded);
            Assert.InRange(retryAfter, 1, 3600);
            Assert.Equal(10, (await SigningKeysAsync(modB.Access)).Count);
            // Another org is not held back by org B's limit.
            var (_, modC) = await OtherOrgAsync(adminA);
            await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", modC.Access)).BodyAsync(HttpStatusCode.OK);
            F.Time.Advance(TimeSpan.FromSeconds(retryAfter));
            await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", (await ReloginAsync(modB)).Access)).BodyAsync(HttpStatusCode.OK);
        }
        finally
        {
            options.MaxPublishedPerOrg = bound;
        }
    }

    [SuiteFact]
    public async Task Published_keys_per_org_are_bounded_and_revocation_never_grows_the_set()
    {
        var adminA = await F.AdminAsync();
        var (orgB, modB) = await OtherOrgAsync(adminA);
        async Task<int> PublishedAsync() => JsonNode.Parse(await F.Http.GetStringAsync("/.well-known/jwks.json"))!["keys"]!.AsArray()
            .Count(k => (string?)k!["org"] == orgB);

        Assert.Equal(1, await PublishedAsync());
        for (var i = 0; i < 4; i++)
        {
            await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", modB.Access)).BodyAsync(HttpStatusCode.OK);
        }

        Assert.Equal(5, await PublishedAsync());
        await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", modB.Access)).ProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        Assert.Equal(5, await PublishedAsync());
        // Revoking the signing key (or a pending one) replaces it: still at most 5 published.
        var keys = await SigningKeysAsync(modB.Access);
        foreach (var state in new[] { "active", "pending" })
        {
            var kid = (string)keys.First(k => (string?)k["state"] == state)["kid"]!;
            await (await F.SendAsync(HttpMethod.Post, $"/v1/signing-keys/{kid}/revoke", modB.Access)).BodyAsync(HttpStatusCode.NoContent);
            Assert.InRange(await PublishedAsync(), 1, 5);
            modB = await ReloginAsync(modB); // its token was signed by the revoked key
        }
        // Once rotated-out keys retire, rotation works again.
        F.Time.Advance(TimeSpan.FromHours(2));
        await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", (await ReloginAsync(modB)).Access)).BodyAsync(HttpStatusCode.OK);
        Assert.InRange(await PublishedAsync(), 1, 5);

        // The feed keeps one org_keys change per org once pruned: the latest, equal to what JWKS publishes for the org.
        await F.Services.GetRequiredService<MaintenanceService>().RunOnceAsync(CancellationToken.None);
        Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM edge_changes WHERE type = 'org_keys' AND value = @orgB", new { orgB }));
        var logged = JsonNode.Parse(await F.InspectAsync<string>("SELECT payload FROM edge_changes WHERE type = 'org_keys' AND value = @orgB", new { orgB }))!;
        var published = JsonNode.Parse(await F.Http.GetStringAsync("/.well-known/jwks.json"))!["keys"]!.AsArray().Where(k => (string?)k!["org"] == orgB)
            .Select(k => (string)k!["kid"]!).Order();
        Assert.Equal(published, logged["keys"]!.AsArray().Select(k => (string)k!["kid"]!).Order());
    }

    [SuiteFact]
    public async Task Rotating_an_orgs_data_key_reseals_its_keys_and_tokens_keep_verifying()
    {
        var adminA = await F.AdminAsync();
        var (orgB, modB) = await OtherOrgAsync(adminA);
        await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", modB.Access)).BodyAsync(HttpStatusCode.OK);
        var sealedKey = await F.InspectAsync<string>("SELECT sealed_key FROM org_data_keys WHERE org_id = @orgB", new { orgB });
        var sealedPrivates = await SealedPrivatesAsync(orgB);
        Assert.Equal(2, sealedPrivates.Count);

        var (_, exploreEmail) = await F.CreateUserAsync("explore", modB);
        var explorer = await F.LoginOkAsync(exploreEmail, ControlPlaneFixture.DefaultPassword, orgB);
        await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/data-key/rotate", explorer.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        var body = await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/data-key/rotate", modB.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(2, (int)body["resealed_keys"]!);
        Assert.NotEqual(sealedKey, await F.InspectAsync<string>("SELECT sealed_key FROM org_data_keys WHERE org_id = @orgB", new { orgB }));
        var resealed = await SealedPrivatesAsync(orgB);
        Assert.All(sealedPrivates, p => Assert.NotEqual(p.Value, resealed[p.Key]));
        // Tokens signed before keep verifying; new ones are signed through the new seal (the cache was dropped).
        await (await F.SendAsync(HttpMethod.Get, "/v1/signing-keys", modB.Access)).BodyAsync(HttpStatusCode.OK);
        var fresh = await ReloginAsync(modB);
        Assert.Equal(Jwt(modB.Access).Kid, Jwt(fresh.Access).Kid);
        await (await F.SendAsync(HttpMethod.Get, "/v1/signing-keys", fresh.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgB AND event = 'signing_data_key_rotated'", new { orgB }));
        // The old data key's seal no longer opens anything: what is stored is bound to the new data key only.
        var master = F.Services.GetRequiredService<KeySealer>();
        var oldDataKey = master.UnsealDataKey(orgB, sealedKey);
        var (kid, value) = resealed.First();
        Assert.ThrowsAny<CryptographicException>(() => KeySealer.UnsealOrgKey(oldDataKey, orgB, kid, value));
        // A sealed key cannot be moved to another org: the org is bound into the seal.
        var newDataKey = master.UnsealDataKey(orgB, await F.InspectAsync<string>("SELECT sealed_key FROM org_data_keys WHERE org_id = @orgB", new { orgB }));
        Assert.ThrowsAny<CryptographicException>(() => KeySealer.UnsealOrgKey(newDataKey, OrgOf(adminA.Access), kid, value));
    }

    private async Task<Dictionary<string, string>> SealedPrivatesAsync(string orgId)
    {
        await using var c = await F.OpenInspectorAsync();
        return (await Dapper.SqlMapper.QueryAsync<(string Kid, string Sealed)>(c, "SELECT kid, sealed_private FROM signing_keys WHERE org_id = @orgId", new { orgId }))
            .ToDictionary(r => r.Kid, r => r.Sealed);
    }

    [SuiteFact]
    public async Task A_key_without_an_org_from_an_upgraded_store_stops_signing_and_leaves_jwks_after_its_tokens_expire()
    {
        var adminA = await F.AdminAsync();
        var orgA = OrgOf(adminA.Access);
        // A global key as a store from before per-org keys has it (still active: the newest key of the old ring).
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = ec.ExportParameters(false).Q;
        var kid = "k_legacy" + Guid.NewGuid().ToString("N")[..8];
        var now = F.Time.GetUtcNow().ToUnixTimeMilliseconds();
        await F.ExecuteAsync("""
            INSERT INTO signing_keys (kid, org_id, created_at, activate_at, retire_at, revoked_at, x, y, sealed_private)
            VALUES (@kid, NULL, @now, @now, NULL, NULL, @x, @y, 'unused')
            """, new { kid, now, x = Base64UrlEncoder.Encode(q.X), y = Base64UrlEncoder.Encode(q.Y) });
        var legacy = new SigningCredentials(new ECDsaSecurityKey(ec) { KeyId = kid }, SecurityAlgorithms.EcdsaSha256);
        var oldToken = Forge(adminA.Access, orgA, legacy);
        // Before start-up work: like today, it verifies (tokens it signed before the upgrade keep working) ...
        await F.Services.GetRequiredService<SigningKeyStore>().PrepareAsync();
        var jwk = JsonNode.Parse(await F.Http.GetStringAsync("/.well-known/jwks.json"))!["keys"]!.AsArray().Single(k => (string?)k!["kid"] == kid)!;
        Assert.Null(jwk["org"]);
        await (await F.SendAsync(HttpMethod.Get, "/v1/users", oldToken)).BodyAsync(HttpStatusCode.OK);
        // ... but it never signs again: the org's own key does.
        Assert.NotEqual(kid, Jwt((await F.AdminAsync()).Access).Kid);
        Assert.NotNull(await F.InspectAsync<long?>("SELECT retire_at FROM signing_keys WHERE kid = @kid", new { kid }));
        // After the longest token lifetime + skew it is gone from JWKS, and nothing it signs is accepted.
        F.Time.Advance(TimeSpan.FromMinutes(61) + TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(JsonNode.Parse(await F.Http.GetStringAsync("/.well-known/jwks.json"))!["keys"]!.AsArray(), k => (string?)k!["kid"] == kid);
        await (await F.SendAsync(HttpMethod.Get, "/v1/users", Forge(adminA.Access, orgA, legacy))).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        // An org's mod cannot act on it (it belongs to no org).
        await (await F.SendAsync(HttpMethod.Post, $"/v1/signing-keys/{kid}/revoke", (await F.AdminAsync()).Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }
}
