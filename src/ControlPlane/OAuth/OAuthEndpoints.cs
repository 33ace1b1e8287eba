using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.ApiKeys;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.RateLimiting;
using Authio.ControlPlane.Tokens;
using Authio.ControlPlane.Users;
using Authio.Shared.ApiKeys;

namespace Authio.ControlPlane.OAuth;

/// <summary>The form of <c>POST /oauth/revoke</c> (RFC 7009), for the OpenAPI document; read with <c>ReadFormAsync</c>.</summary>
internal sealed record OAuthRevokeForm(
    [property: JsonPropertyName("token"), Required, StringLength(Bounds.MaxTokenLength)] string Token,
    [property: JsonPropertyName("token_type_hint"), StringLength(OAuthEndpoints.MaxHintLength)] string? TokenTypeHint = null);

/// <summary>The form of <c>POST /oauth/introspect</c> (RFC 7662).</summary>
internal sealed record OAuthIntrospectForm(
    [property: JsonPropertyName("token"), Required, StringLength(Bounds.MaxTokenLength)] string Token,
    [property: JsonPropertyName("token_type_hint"), StringLength(OAuthEndpoints.MaxHintLength)] string? TokenTypeHint = null);

/// <summary>RFC 7009 revocation and RFC 7662 introspection of the control plane's own tokens, form-encoded.</summary>
internal static class OAuthEndpoints
{
    public const int MaxHintLength = 50;

    public const string RevokePath = "/oauth/revoke";
    public const string IntrospectPath = "/oauth/introspect";

    public static void MapOAuthEndpoints(this IEndpointRouteBuilder app)
    {
        var oauth = app.MapGroup("/oauth").WithTags("OAuth").AddEndpointFilter(async (ctx, next) =>
        {
            ctx.HttpContext.Response.Headers.CacheControl = "no-store";
            return await next(ctx);
        });
        oauth.MapPost("/revoke", async (OAuthTokenService tokens, HttpContext http) =>
            {
                if (await FormProblemAsync(http) is { } invalid)
                {
                    return invalid;
                }

                if (await TokenParameterAsync(http) is not { } token)
                {
                    return MissingToken();
                }

                await tokens.RevokeAsync(token, ClientInfo.From(http), http.RequestAborted);
                return Results.Ok();
            })
            .RequireAuthRateLimit(LimitedAction.Revoke).DisableAntiforgery()
            .Produces(200).Accepts<OAuthRevokeForm>("application/x-www-form-urlencoded").WithSummary("RFC 7009: revoke a refresh token (ends its session) or an access token (until it expires); the token authenticates itself; always 200");
        oauth.MapPost("/introspect", async (OAuthTokenService tokens, EdgeSyncService sync, ApiKeyLookupService keys, AccessTokenValidator validator,
                CallerAuthority authority, HttpContext http) =>
            {
                var header = http.Request.Headers.Authorization.Count == 1 ? http.Request.Headers.Authorization.ToString() : "";
                Introspector who;
                var credential = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
                if (ApiKeyFormat.HasApiKeyPrefix(credential))
                {
                    var edge = await keys.AuthenticateEdgeAsync(header, ClientInfo.From(http), http.RequestAborted);
                    if (edge.Error is not null)
                    {
                        return edge.Error;
                    }

                    who = new Introspector(null);
                }
                else
                {
                    if (credential.Length == 0)
                    {
                        return Failure.Unauthorized("An edge:sync API key or a mod access token is required as the bearer credential.");
                    }

                    var claims = await validator.ValidateAsync(credential, http.RequestAborted);
                    if (claims is null)
                    {
                        return Failure.Unauthorized("The access token is invalid or expired.");
                    }

                    var verdict = await authority.CheckAsync(claims, http.RequestAborted);
                    if (!verdict.Allowed)
                    {
                        return Failure.Unauthorized(verdict.Refusal!);
                    }

                    if (verdict.Role != Roles.Mod)
                    {
                        return Failure.Forbidden("Introspection needs a mod access token.");
                    }

                    who = new Introspector(claims.OrgId);
                }
                if (await FormProblemAsync(http) is { } invalid)
                {
                    return invalid;
                }

                if (await TokenParameterAsync(http) is not { } token)
                {
                    return MissingToken();
                }

                return Results.Ok(await tokens.IntrospectAsync(token, who, sync.InScope, http.RequestAborted));
            })
            .DisableAntiforgery()
            .Produces<IntrospectionResponse>().Accepts<OAuthIntrospectForm>("application/x-www-form-urlencoded").WithSummary("RFC 7662: whether a token is active, answered from the edge feed's revocation state (edge:sync key or mod access token)");
    }

    private static async Task<string?> TokenParameterAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType)
        {
            return null;
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var token = form["token"].ToString();
        return token.Length == 0 ? null : token;
    }

    /// <summary>
    /// Each field at most once (RFC 6749 §3.1) and the hint within its length. An over-long <c>token</c> is not refused:
    /// like any invalid token it revokes nothing (200) and introspects inactive (RFC 7009 §2.2, RFC 7662 §2.2).
    /// </summary>
    private static async Task<IResult?> FormProblemAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType)
        {
            return null;
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var errors = new Dictionary<string, string[]>();
        foreach (var (name, max) in new[] { ("token", int.MaxValue), ("token_type_hint", MaxHintLength) })
        {
            var values = form[name];
            if (values.Count > 1)
            {
                errors[name] = ["must be given at most once."];
            }
            else if (values.ToString().Length > max)
            {
                errors[name] = [$"must be at most {max} characters."];
            }
            else if (values.ToString().Contains('\0', StringComparison.Ordinal))
            {
                errors[name] = ["must not contain the NUL character (U+0000)."];
            }
        }
        return errors.Count > 0 ? Failure.Invalid(errors) : null;
    }

    private static IResult MissingToken() =>
        Failure.Invalid("token", "is required, form-encoded (application/x-www-form-urlencoded).");
}
