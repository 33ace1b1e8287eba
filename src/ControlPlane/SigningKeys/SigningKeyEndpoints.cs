using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.SigningKeys;

internal sealed record SigningKeyView(string Kid, string State, DateTimeOffset CreatedAt, DateTimeOffset ActivateAt, DateTimeOffset? RetireAt, DateTimeOffset? RevokedAt);

internal sealed record Jwk(
    [property: JsonPropertyName("kty")] string Kty, [property: JsonPropertyName("crv")] string Crv,
    [property: JsonPropertyName("x")] string X, [property: JsonPropertyName("y")] string Y,
    [property: JsonPropertyName("kid")] string Kid, [property: JsonPropertyName("alg")] string Alg, [property: JsonPropertyName("use")] string Use);

internal sealed record JwkSet([property: JsonPropertyName("keys")] IReadOnlyList<Jwk> Keys);

internal sealed record OpenIdConfiguration(
    [property: JsonPropertyName("issuer")] string Issuer,
    [property: JsonPropertyName("jwks_uri")] string JwksUri,
    [property: JsonPropertyName("token_endpoint")] string TokenEndpoint,
    [property: JsonPropertyName("id_token_signing_alg_values_supported")] string[] IdTokenAlgs,
    [property: JsonPropertyName("token_endpoint_auth_signing_alg_values_supported")] string[] TokenAlgs);

internal static class SigningKeyEndpoints
{
    public static void MapWellKnown(IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/jwks.json", async (SigningKeyStore keys, HttpContext http) =>
            {
                // Short cache: a revoked key must disappear from edges quickly.
                http.Response.Headers.CacheControl = "public, max-age=60";
                var published = await keys.PublishedAsync(http.RequestAborted);
                return Results.Ok(SigningKeyStore.JwksOf(published));
            })
            .WithTags("Discovery").Produces<JwkSet>().WithSummary("Public signing keys (JWKS)");
        app.MapGet("/.well-known/openid-configuration", (ControlPlaneOptions o) =>
            {
                var issuer = o.Issuer.TrimEnd('/');
                return Results.Ok(new OpenIdConfiguration(o.Issuer, issuer + "/.well-known/jwks.json", issuer + "/v1/auth/login",
                    [SecurityAlgorithms.EcdsaSha256], [SecurityAlgorithms.EcdsaSha256]));
            })
            .WithTags("Discovery").Produces<OpenIdConfiguration>().WithSummary("Discovery document");
    }

    public static void Map(RouteGroupBuilder v1)
    {
        var g = v1.MapGroup("/signing-keys").WithTags("Signing keys");
        g.MapGet("/", async (SigningKeyStore keys, HttpContext http) =>
                Results.Ok((await keys.ListAsync(http.RequestAborted)).Select(k => View(k.Key, k.State))))
            .Produces<List<SigningKeyView>>().WithSummary("All signing keys with their state");
        g.MapPost("/rotate", async (SigningKeyStore keys, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                var row = await keys.RotateAsync(immediate: false, caller.OrgId, caller.UserId, http.RequestAborted);
                var state = (await keys.ListAsync(http.RequestAborted)).First(k => k.Key.Kid == row.Kid).State;
                return Results.Ok(View(row, state));
            })
            .AddEndpointFilter<AdminFilter>().Produces<SigningKeyView>().WithSummary("Start a rotation: the new key is published now and signs after the pre-publish period (mod)");
        g.MapPost("/{kid}/revoke", async (string kid, SigningKeyStore keys, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                return await keys.RevokeAsync(kid, caller.OrgId, caller.UserId, http.RequestAborted) ? Results.NoContent() : Problems.NotFound("Signing key");
            })
            .AddEndpointFilter<AdminFilter>().Produces(204).WithSummary("Remove a compromised key from JWKS at once (mod)");
    }

    private static SigningKeyView View(SigningKeyRow k, string state) => new(k.Kid, state, Time(k.CreatedAt), Time(k.ActivateAt),
        k.RetireAt is { } r ? Time(r) : null, k.RevokedAt is { } v ? Time(v) : null);

    private static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
