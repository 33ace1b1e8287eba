using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Tokens;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// A validated caller, with its upstream header values precomputed once so that every later request carrying
/// the same credential (a cache hit) forwards it without allocating.
/// </summary>
internal sealed class EdgeIdentity
{
    /// <summary>The token's <c>sub</c>; null for API keys, which identify a key, not a person.</summary>
    public required string? Subject { get; init; }
    /// <summary>Header-safe forms (see <see cref="IdentityHeaderValue"/>), computed once per credential.</summary>
    public string? SubjectHeader { get; init; }
    public string? OrgHeader { get; init; }
    public string? SessionHeader { get; init; }
    public string? TokenIdHeader { get; init; }
    /// <summary>The API key id; null for tokens.</summary>
    public string? KeyId { get; init; }
    public string? Org { get; init; }
    public string? SessionId { get; init; }
    public string? TokenId { get; init; }
    public required string[] Scopes { get; init; }
    /// <summary>Space-separated scopes as sent upstream.</summary>
    public required string ScopesHeader { get; init; }
    public required string AuthType { get; init; }
    public long ExpiresAt { get; init; }
    public long IssuedAt { get; init; }
    /// <summary>The key that verified the token; when it is retired the identity is no longer trusted.</summary>
    public SigningKey? Key { get; init; }

    public bool HasAllScopes(string[] required)
    {
        foreach (var scope in required)
        {
            if (Array.IndexOf(Scopes, scope) < 0)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Materializes strings from a validated payload: the one allocation of a token's life at this edge.</summary>
    public static EdgeIdentity FromJwt(in JwtClaims claims, ReadOnlySpan<byte> payload)
    {
        var scopes = claims.Scope.IsPresent
            ? claims.Scope.GetString(payload)!.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            : claims.ScopeArray.GetStringArray(payload);
        var subject = claims.Subject.GetString(payload)!;
        var org = claims.Org.GetString(payload);
        var session = claims.SessionId.GetString(payload);
        var tokenId = claims.TokenId.GetString(payload);
        return new EdgeIdentity
        {
            Subject = subject,
            Org = org,
            SessionId = session,
            TokenId = tokenId,
            SubjectHeader = IdentityHeaderValue.Encode(subject),
            OrgHeader = org is null ? null : IdentityHeaderValue.Encode(org),
            SessionHeader = session is null ? null : IdentityHeaderValue.Encode(session),
            TokenIdHeader = tokenId is null ? null : IdentityHeaderValue.Encode(tokenId),
            Scopes = scopes,
            ScopesHeader = IdentityHeaderValue.Encode(string.Join(' ', scopes)),
            AuthType = Shared.Tokens.IdentityHeaders.AuthTypeJwt,
            ExpiresAt = claims.ExpiresAt,
            IssuedAt = claims.IssuedAt,
            Key = claims.Key,
        };
    }
}
