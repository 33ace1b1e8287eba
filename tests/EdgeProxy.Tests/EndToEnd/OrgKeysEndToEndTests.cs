using System.Diagnostics;
using System.Net;
using Authio.ControlPlane.SigningKeys;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Authio.EdgeProxy.Tests.EndToEnd;

/// <summary>
/// Two orgs on one real control plane, a real edge following its feed: a key of one org never speaks for another,
/// at the edge or at the admin API, and one org's key actions never touch another org's tokens.
/// </summary>
public abstract class OrgKeysEndToEndTests(bool postgres) : ControlPlaneAndEdge(withRedis: false, postgres)
{
    private async Task<HttpStatusCode> Status(string token)
    {
        using var response = await Edge.GetAsync("/api/x", token);
        return response.StatusCode;
    }

    private async Task Until(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(20);
        }
        Assert.Fail(what + " did not happen within 10 s");
    }

    /// <summary>Org B, founded by a new mod of the bootstrap org; that mod's token pair in org B.</summary>
    /// <summary><paramref name="claimsFrom"/>'s claims with <paramref name="org"/> as the org, signed by <paramref name="signer"/>.</summary>
    private static string Forge(string claimsFrom, string org, SigningCredentials signer)
    {
        var source = new JsonWebToken(claimsFrom);
        var now = DateTimeOffset.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = source.Issuer,
            Audience = source.Audiences.First(),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.AddMinutes(10).UtcDateTime,
            TokenType = "at+jwt",
            SigningCredentials = signer,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = source.Subject,
                ["org"] = org,
                ["sid"] = source.GetPayloadValue<string>("sid"),
                ["jti"] = Guid.NewGuid().ToString("N"),
                ["scope"] = source.GetPayloadValue<string>("scope"),
                ["role"] = source.GetPayloadValue<string>("role"),
            },
        });
    }

    [StoreFact]
    public async Task A_token_claiming_org_A_signed_with_org_Bs_valid_key_is_refused_at_the_edge_and_the_admin_api()
    {
        var adminA = await Cp.AccessTokenAsync();
        var orgA = new JsonWebToken(adminA).GetPayloadValue<string>("org");
        var (orgB, modB) = await Cp.SecondOrgAsync(adminA);
        Assert.NotEqual(new JsonWebToken(adminA).Kid, new JsonWebToken(modB).Kid);
        // Org B's key reaches the edge through the feed (an org_keys change).
        await Until(async () => await Status(modB) == HttpStatusCode.OK, "org B's token accepted at the edge");
        Assert.Equal(HttpStatusCode.OK, await Status(adminA));

        // Org B's real, published private key, as an insider of org B would hold it.
        var keyB = await Cp.Services.GetRequiredService<SigningKeyStore>().SigningCredentialsAsync(orgB);
        var forged = Forge(adminA, orgA, keyB);
        var received = Upstream.Received.Count;
        using (var atEdge = await Edge.GetAsync("/api/x", forged))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, atEdge.StatusCode);
            Assert.Contains("\"code\":\"unauthorized\"", await atEdge.Content.ReadAsStringAsync());
        }
        Assert.Equal(received, Upstream.Received.Count);
        using (var atAdminApi = await Cp.SendAsync(HttpMethod.Get, "/v1/users", forged))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, atAdminApi.StatusCode);
        }
        // The signature itself is good: the same forgery naming org B passes both (the org binding alone refused it).
        var sameKeyOwnOrg = Forge(modB, orgB, keyB);
        Assert.Equal(HttpStatusCode.OK, await Status(sameKeyOwnOrg));
        using (var ok = await Cp.SendAsync(HttpMethod.Get, "/v1/users", sameKeyOwnOrg))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
    }

    [StoreFact]
    public async Task Org_B_revoking_its_active_key_never_affects_org_As_tokens_and_cannot_touch_org_As_keys()
    {
        var adminA = await Cp.AccessTokenAsync();
        var (_, modB) = await Cp.SecondOrgAsync(adminA);
        await Until(async () => await Status(modB) == HttpStatusCode.OK, "org B's token accepted at the edge");
        var kidA = new JsonWebToken(adminA).Kid;
        var kidB = new JsonWebToken(modB).Kid;

        using (var denied = await Cp.SendAsync(HttpMethod.Post, $"/v1/signing-keys/{kidA}/revoke", modB))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        }
        using (var revoked = await Cp.SendAsync(HttpMethod.Post, $"/v1/signing-keys/{kidB}/revoke", modB))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }
        await Until(async () => await Status(modB) == HttpStatusCode.Unauthorized, "org B's revoked key leaving the edge");
        Assert.Equal(HttpStatusCode.OK, await Status(adminA));
        Assert.Equal(HttpStatusCode.OK, await Status(await Cp.AccessTokenAsync()));
        using var stillFine = await Cp.SendAsync(HttpMethod.Get, "/v1/signing-keys", adminA);
        Assert.Equal(HttpStatusCode.OK, stillFine.StatusCode);
    }
}

public sealed class OrgKeysEndToEndSqliteTests() : OrgKeysEndToEndTests(postgres: false);

public sealed class OrgKeysEndToEndPostgresTests() : OrgKeysEndToEndTests(postgres: true);
