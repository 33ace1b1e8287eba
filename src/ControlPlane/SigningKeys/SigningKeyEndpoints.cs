using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Mfa;
using Authio.ControlPlane.Orgs;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.SigningKeys;

internal sealed record SigningKeyView(string Kid, string State, DateTimeOffset CreatedAt, DateTimeOffset ActivateAt, DateTimeOffset? RetireAt, DateTimeOffset? RevokedAt);

internal sealed record Jwk(
    [property: JsonPropertyName("kty")] string Kty, [property: JsonPropertyName("crv")] string Crv,
    [property: JsonPropertyName("x")] string X, [property: JsonPropertyName("y")] string Y,
    [property: JsonPropertyName("kid")] string Kid, [property: JsonPropertyName("alg")] string Alg, [property: JsonPropertyName("use")] string Use,
    // The org whose tokens the key signs: edges refuse a token whose org claim differs. Absent on keys without an org.
    [property: JsonPropertyName("org"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Org = null);

internal sealed record DataKeyRotation([property: JsonPropertyName("resealed_keys")] int ResealedKeys);

internal sealed record JwkSet([property: JsonPropertyName("keys")] IReadOnlyList<Jwk> Keys);

internal sealed record OpenIdConfiguration(
    [property: JsonPropertyName("issuer")] string Issuer,
    [property: JsonPropertyName("jwks_uri")] string JwksUri,
    [property: JsonPropertyName("token_endpoint")] string TokenEndpoint,
    [property: JsonPropertyName("id_token_signing_alg_values_supported")] string[] IdTokenAlgs,
    [property: JsonPropertyName("token_endpoint_auth_signing_alg_values_supported")] string[] TokenAlgs);

internal static class SigningKeyEndpoints
{
    public static void MapWellKnownEndpoints(this IEndpointRouteBuilder app)
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

    public static void MapSigningKeyEndpoints(this RouteGroupBuilder v1)
    {
        // Every action here concerns the caller's own org only: another org's kid is 403, never a change.
        var g = v1.MapGroup("/signing-keys").WithTags("Signing keys");
        g.MapGet("/", async (SigningKeyStore keys, HttpContext http) =>
                Results.Ok((await keys.ListAsync(Caller.Of(http).OrgId, http.RequestAborted)).Select(k => View(k.Key, k.State))))
            .Produces<List<SigningKeyView>>().WithSummary("The caller's org's signing keys with their state");
        g.MapGet("/{kid}", async (string kid, SigningKeyStore keys, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                var (found, owner) = await keys.OwnerAsync(kid, http.RequestAborted);
                if (!found)
                {
                    return Failure.NotFound("Signing key");
                }

                if (owner != caller.OrgId)
                {
                    return Failure.Forbidden("This signing key belongs to another org.");
                }

                var key = (await keys.ListAsync(caller.OrgId, http.RequestAborted)).First(k => k.Key.Kid == kid);
                return Results.Ok(View(key.Key, key.State));
            })
            .Produces<SigningKeyView>().WithSummary("One of the caller's org's signing keys (another org's: 403)");
        g.MapPost("/rotate", async (SigningKeyStore keys, ControlPlaneMetrics metrics, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                var result = await keys.RotateAsync(caller.OrgId, caller.UserId, http.RequestAborted);
                if (result.Error is not null)
                {
                    return result.Error;
                }

                metrics.KeysRotated("manual", 1);

                var state = (await keys.ListAsync(caller.OrgId, http.RequestAborted)).First(k => k.Key.Kid == result.Value!.Kid).State;
                return Results.Ok(View(result.Value!, state));
            })
            .AddEndpointFilter<AdminFilter>().RequireStepUp("signing_key.rotate").Produces<SigningKeyView>()
            .ProducesProblem(409).ProducesProblem(429)
            .WithSummary("Start a rotation of the caller's org's keys: the new key is published now and signs after the pre-publish period (mod; 429 beyond the hourly limit, 409 at the published-key bound)");
        g.MapPost("/{kid}/revoke", async (string kid, SigningKeyStore keys, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                return (await keys.RevokeAsync(caller.OrgId, kid, caller.UserId, http.RequestAborted)).ToResult(_ => Results.NoContent());
            })
            .AddEndpointFilter<AdminFilter>().RequireStepUp("signing_key.revoke").Produces(204).WithSummary("Remove a compromised key of the caller's org from JWKS at once (mod; another org's key: 403)");
        g.MapPost("/data-key/rotate", async (SigningKeyStore keys, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                var count = await keys.RotateDataKeyAsync(caller.OrgId, caller.UserId, http.RequestAborted);
                return Results.Ok(new DataKeyRotation(count));
            })
            .AddEndpointFilter<AdminFilter>().RequireStepUp("signing_data_key.rotate").Produces<DataKeyRotation>()
            .WithSummary("Replace the caller's org's data key and re-seal its private signing keys under it (mod)");
    }

    /// <summary>
    /// The platform operator's emergency action: revoke any org's key (a key known compromised before its org's mod
    /// acts). Operators only; audited in the key's org (<c>signing_key_revoked</c>, actor = the operator) and in the
    /// operator's own org (<c>platform_signing_key_revoked</c>).
    /// </summary>
    public static void MapPlatformSigningKeyEndpoints(this RouteGroupBuilder v1)
    {
        var g = v1.MapGroup("/platform/signing-keys").WithTags("Platform").AddEndpointFilter<OperatorFilter>();
        g.MapPost("/{kid}/revoke", async (string kid, SigningKeyStore keys, AuditLog audit, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                var (found, owner) = await keys.OwnerAsync(kid, http.RequestAborted);
                if (!found)
                {
                    return Failure.NotFound("Signing key");
                }

                if (owner is null)
                {
                    return Failure.Conflict("This key predates per-org keys: it no longer signs and leaves JWKS once the tokens it signed have expired.");
                }

                var result = await keys.RevokeAsync(owner, kid, caller.UserId, http.RequestAborted);
                if (result.Error is not null)
                {
                    return result.Error;
                }

                if (owner != caller.OrgId)
                {
                    await audit.RecordAsync(new AuditEntry(caller.OrgId, AuditEvents.PlatformSigningKeyRevoked)
                    {
                        ActorId = caller.UserId, Ip = caller.Client.Ip, UserAgent = caller.Client.UserAgent,
                        Details = new() { ["kid"] = kid, ["key_org_id"] = owner },
                    }, http.RequestAborted);
                }
                return Results.NoContent();
            })
            .RequireStepUp("platform_signing_key.revoke").Produces(204).ProducesProblem(409)
            .WithSummary("Emergency: revoke any org's signing key at once (platform operator; the org gets a new signer at once)");
    }

    private static SigningKeyView View(SigningKeyRow k, string state) => new(k.Kid, state, Time(k.CreatedAt), Time(k.ActivateAt),
        k.RetireAt is { } r ? Time(r) : null, k.RevokedAt is { } v ? Time(v) : null);

    private static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
