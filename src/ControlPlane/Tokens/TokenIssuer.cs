using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.SigningKeys;
using Authio.ControlPlane.Users;
using Authio.Shared.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.Tokens;

internal sealed record IssuedAccessToken(string Token, long ExpiresAtMs, int ExpiresInSeconds);

/// <summary>Issues ES256 access tokens (RFC 9068 <c>at+jwt</c>) with the active signing key.</summary>
internal sealed class TokenIssuer(SigningKeyStore keys, ControlPlaneOptions options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <param name="userNotBeforeMs">
    /// The user's latest not-before in the org (unix ms), read in the transaction that granted this token. Edges refuse a
    /// token whose <c>iat</c> (whole seconds) is below the not-before rounded up; a token granted after it within the same
    /// second therefore carries that rounded-up second as its <c>iat</c> (at most 1 s ahead, inside any clock skew).
    /// </param>
    /// <param name="signIn">How the session's user authenticated: <c>amr</c>, <c>acr</c>, <c>auth_time</c>.</param>
    public async Task<IssuedAccessToken> IssueAsync(string orgId, string userId, string sessionId, string role,
        IReadOnlyList<string> teams, TimeSpan ttl, CancellationToken ct = default, IReadOnlyDictionary<string, string>? projects = null,
        long? userNotBeforeMs = null, SignInContext? signIn = null)
    {
        // Only the org's own active key signs its tokens: edges refuse a token whose org differs from its key's.
        var credentials = await keys.SigningCredentialsAsync(orgId, ct);
        // JWT times are whole seconds; truncate so exp - iat is exactly the TTL.
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        // nbf stays the real second: only iat moves, so no validator sees a token that is not valid yet.
        var notBefore = issuedAt;
        if (userNotBeforeMs is { } nb && (nb + 999) / 1000 - issuedAt.ToUnixTimeSeconds() == 1)
        {
            issuedAt = issuedAt.AddSeconds(1);
        }
        var exp = issuedAt + ttl;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = issuedAt.UtcDateTime,
            NotBefore = notBefore.UtcDateTime,
            Expires = exp.UtcDateTime,
            TokenType = ClaimNames.AccessTokenType,
            SigningCredentials = credentials,
            Claims = new Dictionary<string, object>
            {
                [ClaimNames.Subject] = userId,
                [ClaimNames.Org] = orgId,
                [ClaimNames.SessionId] = sessionId,
                [ClaimNames.TokenId] = Guid.NewGuid().ToString("N"),
                [ClaimNames.Scope] = string.Join(' ', Roles.ScopesOf(role)),
                [ClaimNames.Role] = role,
                [ClaimNames.Teams] = teams.ToArray(),
            },
        };
        if (signIn is not null)
        {
            descriptor.Claims[ClaimNames.AuthenticationMethods] = signIn.Amr.ToArray();
            descriptor.Claims[ClaimNames.AuthenticationContext] = signIn.Acr;
            descriptor.Claims[ClaimNames.AuthTime] = signIn.AuthTime;
        }
        if (ProjectsClaim(projects) is { } projectRoles)
        {
            descriptor.Claims[ClaimNames.Projects] = projectRoles;
        }
        return new IssuedAccessToken(_handler.CreateToken(descriptor), exp.ToUnixTimeMilliseconds(), (int)ttl.TotalSeconds);
    }

    /// <summary>
    /// The <c>projects</c> claim: project id → role, bounded to <see cref="ClaimNames.MaxProjects"/> entries and
    /// <see cref="ClaimNames.MaxProjectsJsonBytes"/> of JSON so a token stays well under an edge's size limit (the highest
    /// roles first, then by id); null when the user has no project role.
    /// </summary>
    internal static Dictionary<string, object>? ProjectsClaim(IReadOnlyDictionary<string, string>? projects)
    {
        if (projects is null || projects.Count == 0)
        {
            return null;
        }
        var claim = new Dictionary<string, object>(StringComparer.Ordinal);
        var bytes = 2;
        foreach (var (project, role) in projects.Where(p => Roles.IsKnown(p.Value))
            .OrderByDescending(p => Roles.RankOf(p.Value)).ThenBy(p => p.Key, StringComparer.Ordinal))
        {
            bytes += System.Text.Encoding.UTF8.GetByteCount(project) + role.Length + 6; // "id":"role",
            if (claim.Count == ClaimNames.MaxProjects || bytes > ClaimNames.MaxProjectsJsonBytes)
            {
                break;
            }
            claim[project] = role;
        }
        return claim.Count == 0 ? null : claim;
    }
}
