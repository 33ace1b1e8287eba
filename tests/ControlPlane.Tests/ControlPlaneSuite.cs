using System.Net;
using System.Net.Http.Json;
using Authio.Shared.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.Tests;

/// <summary>The behaviour every store must show. Each derived class runs it against one store through real HTTP.</summary>
public abstract partial class ControlPlaneSuite(ControlPlaneFixture f)
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
}

public sealed class SqliteSuite(SqliteFixture f) : ControlPlaneSuite(f), IClassFixture<SqliteFixture>;
