using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Tokens;
using Authio.Shared.Sync;

namespace Authio.ControlPlane.OAuth;

/// <summary>RFC 7662 introspection response; everything but <c>active</c> is omitted for inactive tokens.</summary>
internal sealed record IntrospectionResponse(
    [property: JsonPropertyName("active")] bool Active,
    [property: JsonPropertyName("scope"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Scope = null,
    [property: JsonPropertyName("sub"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Sub = null,
    [property: JsonPropertyName("org"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Org = null,
    [property: JsonPropertyName("sid"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Sid = null,
    [property: JsonPropertyName("jti"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Jti = null,
    [property: JsonPropertyName("exp"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Exp = null,
    [property: JsonPropertyName("iat"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Iat = null,
    [property: JsonPropertyName("iss"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Iss = null,
    [property: JsonPropertyName("aud"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Aud = null,
    [property: JsonPropertyName("token_type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TokenType = null)
{
    public static readonly IntrospectionResponse Inactive = new(false);
}

/// <summary>Who may introspect: an edge (its allowed orgs) or a mod of one org (that org's tokens only).</summary>
internal sealed record Introspector(string? OrgId);

/// <summary>
/// RFC 7009 revocation and RFC 7662 introspection of our own tokens, answered from the same revocation state the edge
/// feed carries. Access tokens are recognised by their JWT shape, refresh tokens by <c>{org}.{secret}</c>.
/// </summary>
internal sealed partial class OAuthTokenService(
    Db db, OAuthStore store, AccessTokenValidator validator, SessionService sessions, EdgeChangeStore changes, AuditLog audit, ControlPlaneOptions options,
    TimeProvider time, ILogger<OAuthTokenService> logger)
{
    public const string AccessTokenType = "Bearer";
    public const string RefreshTokenType = "refresh_token";

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private static bool LooksLikeJwt(string token) => token.Count(ch => ch == '.') == 2;

    /// <summary>
    /// Revokes <paramref name="token"/> if it is one of ours and still means something: a refresh token ends its session
    /// (<c>sid</c> revocation), an access token gets a <c>jti</c> revocation until it expires. Anything else is ignored.
    /// </summary>
    public async Task RevokeAsync(string token, ClientInfo client, CancellationToken ct)
    {
        if (token.Length > 8192)
        {
            return;
        }

        if (LooksLikeJwt(token))
        {
            var claims = await validator.ValidateAsync(token, ct);
            if (claims?.TokenId is null)
            {
                return;
            }

            var now = Now;
            var expiresAt = claims.ExpiresAt * 1000 + (long)options.Tokens.ClockSkew.TotalMilliseconds;
            var added = await db.InOrgAsync(claims.OrgId, async (c, tx) =>
            {
                if (await OAuthStore.IsRevokedAsync(c, tx, claims.OrgId, RevocationKinds.TokenId, claims.TokenId))
                {
                    return false;
                }

                await changes.AppendRevocationAsync(c, tx, claims.OrgId, RevocationKinds.TokenId, claims.TokenId, null, now, expiresAt);
                return true;
            }, ct);
            if (!added)
            {
                return;
            }

            Log.AccessTokenRevoked(logger, claims.OrgId, claims.SessionId);
            await audit.RecordAsync(new AuditEntry(claims.OrgId, AuditEvents.AccessTokenRevoked)
            {
                ActorId = claims.UserId, UserId = claims.UserId, SessionId = claims.SessionId, Ip = client.Ip, UserAgent = client.UserAgent,
                Details = new() { ["jti"] = claims.TokenId },
            }, ct);
            return;
        }
        if (RefreshTokens.OrgOf(token) is not { } orgId)
        {
            return;
        }

        var hash = RefreshTokens.Hash(token);
        var now2 = Now;
        var session = await store.LiveRefreshSessionAsync(orgId, hash, now2, ct);
        if (session.SessionId is null)
        {
            return;
        }

        await sessions.EndAsync(orgId, session.SessionId, EndReasons.TokenRevoked, AuditEvents.SessionEnded, session.UserId, client, ct);
    }

    /// <summary>What <paramref name="token"/> is, if it is active and visible to <paramref name="who"/>; otherwise inactive.</summary>
    public async Task<IntrospectionResponse> IntrospectAsync(string token, Introspector who, Func<string, bool> edgeMaySee, CancellationToken ct)
    {
        if (token.Length > 8192)
        {
            return IntrospectionResponse.Inactive;
        }

        bool Visible(string org) => who.OrgId is { } own ? own == org : edgeMaySee(org);
        var now = Now;
        if (LooksLikeJwt(token))
        {
            var claims = await validator.ValidateAsync(token, ct);
            if (claims?.TokenId is null || !Visible(claims.OrgId))
            {
                return IntrospectionResponse.Inactive;
            }

            var hits = await store.RevocationsOfAsync(claims.OrgId, claims.TokenId, claims.SessionId, claims.UserId, now, ct);
            // Same rule as the edge: user_not_before (rounded up to whole seconds) revokes tokens issued before it.
            if (hits.Any(h => h.Kind != RevocationKinds.UserNotBefore || claims.IssuedAt < CeilSeconds(h.NotBefore ?? 0)))
            {
                return IntrospectionResponse.Inactive;
            }

            return new IntrospectionResponse(true, string.Join(' ', claims.Scopes.Order(StringComparer.Ordinal)), claims.UserId, claims.OrgId,
                claims.SessionId, claims.TokenId, claims.ExpiresAt, claims.IssuedAt, options.Issuer, options.Audience, AccessTokenType);
        }
        if (RefreshTokens.OrgOf(token) is not { } orgId || !Visible(orgId))
        {
            return IntrospectionResponse.Inactive;
        }

        var hash = RefreshTokens.Hash(token);
        var graceMs = (long)options.Tokens.RefreshReuseGrace.TotalMilliseconds;
        var row = await store.RefreshTokenAsync(orgId, hash, ct);
        if (row.SessionId is null || row.EndedAt is not null || row.ExpiresAt <= now || (row.RotatedAt is { } r && now - r > graceMs))
        {
            return IntrospectionResponse.Inactive;
        }

        return new IntrospectionResponse(true, null, row.UserId, orgId, row.SessionId, null, row.ExpiresAt / 1000, row.CreatedAt / 1000,
            options.Issuer, null, RefreshTokenType);
    }

    private static long CeilSeconds(long ms) => (ms + 999) / 1000;
}
