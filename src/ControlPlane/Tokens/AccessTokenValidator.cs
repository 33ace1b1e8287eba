using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.SigningKeys;
using Authio.ControlPlane.Users;
using Authio.Shared.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.Tokens;

/// <param name="TokenId">The <c>jti</c>; <paramref name="IssuedAt"/> and <paramref name="ExpiresAt"/> in unix seconds.</param>
internal sealed record AccessTokenClaims(string OrgId, string UserId, string SessionId, string Role, IReadOnlySet<string> Scopes,
    string? TokenId = null, long IssuedAt = 0, long ExpiresAt = 0)
{
    /// <summary>The token's <c>acr</c>, null when it has none (tokens from before it was issued: rank 0).</summary>
    public string? Acr { get; init; }

    /// <summary>The token's <c>auth_time</c> (unix seconds), null when it has none.</summary>
    public long? AuthTime { get; init; }

    public IReadOnlyList<string> Amr { get; init; } = [];
}

/// <summary>Validates our own access tokens (admin API, introspection, revocation) against the published key they name, bound to its org.</summary>
internal sealed class AccessTokenValidator(SigningKeyStore keys, ControlPlaneOptions options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new();

    public async Task<AccessTokenClaims?> ValidateAsync(string token, CancellationToken ct = default)
    {
        string? kid;
        try
        {
            kid = new JsonWebToken(token).Kid;
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException)
        {
            return null; // not a well-formed JWS
        }
        // Only the key the token names, and only while it is published; its org must be the token's org.
        if (string.IsNullOrEmpty(kid) || await keys.VerificationKeyAsync(kid, ct) is not { } key)
        {
            return null;
        }

        var skew = options.Tokens.ClockSkew;
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudience = options.Audience,
            IssuerSigningKeys = [key.Key],
            ValidTypes = [ClaimNames.AccessTokenType],
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = skew,
            // The library's own check reads the wall clock; tests and the service use TimeProvider.
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                return expires is { } e && now < e + skew && (notBefore is not { } n || n - skew <= now);
            },
        };
        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return null;
        }

        if (!jwt.TryGetPayloadValue<string>(ClaimNames.Org, out var org) ||
            !jwt.TryGetPayloadValue<string>(ClaimNames.SessionId, out var sid) ||
            !jwt.TryGetPayloadValue<string>(ClaimNames.Role, out var role) ||
            string.IsNullOrEmpty(jwt.Subject) || !Roles.IsKnown(role))
        {
            return null;
        }
        // A valid signature by another org's key proves nothing about this org: refuse (keys without an org are legacy
        // keys that only verify until their retirement).
        if (key.OrgId is not null && !string.Equals(key.OrgId, org, StringComparison.Ordinal))
        {
            return null;
        }

        jwt.TryGetPayloadValue<string>(ClaimNames.Scope, out var scope);
        var scopes = (scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        return new AccessTokenClaims(org, jwt.Subject, sid, role, scopes, string.IsNullOrEmpty(jwt.Id) ? null : jwt.Id,
            new DateTimeOffset(jwt.IssuedAt, TimeSpan.Zero).ToUnixTimeSeconds(), new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero).ToUnixTimeSeconds())
        {
            Acr = jwt.TryGetPayloadValue<string>(ClaimNames.AuthenticationContext, out var acr) ? acr : null,
            AuthTime = jwt.TryGetPayloadValue<long>(ClaimNames.AuthTime, out var authTime) ? authTime : null,
            Amr = jwt.TryGetPayloadValue<string[]>(ClaimNames.AuthenticationMethods, out var amr) && amr is not null ? amr : [],
        };
    }
}
