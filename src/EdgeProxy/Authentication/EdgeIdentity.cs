using System.Text.Json;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Policy;
using Authio.EdgeProxy.Tokens;
using Authio.Shared.Scopes;
using Authio.Shared.Tokens;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// A validated caller, with its upstream header values precomputed once so that every later request carrying
/// the same credential (a cache hit) forwards it without allocating.
/// </summary>
internal sealed class EdgeIdentity
{
    private readonly string[] _scopes = [];
    private GrantedScopes? _granted;
    private string?[] _claimValues = [];

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

    public required string[] Scopes
    {
        get => _scopes;
        init => _scopes = value;
    }

    /// <summary>
    /// <see cref="Scopes"/> compiled once for <see cref="ScopeGrammar"/> matching (wildcards included): the shared
    /// <see cref="ScopeSet"/>'s for tokens, else compiled on first use (a benign race: both results are equal).
    /// </summary>
    public GrantedScopes Granted
    {
        get => _granted ?? Volatile.Read(ref _compiledScopes) ?? CompileScopes();
        init => _granted = value;
    }

    private GrantedScopes? _compiledScopes;

    private GrantedScopes CompileScopes()
    {
        var compiled = _scopes.Length == 0 ? GrantedScopes.None : new GrantedScopes(_scopes);
        Volatile.Write(ref _compiledScopes, compiled);
        return compiled;
    }

    /// <summary>Space-separated scopes as sent upstream.</summary>
    public required string ScopesHeader { get; init; }
    public required string AuthType { get; init; }
    public long ExpiresAt { get; init; }
    public long IssuedAt { get; init; }
    /// <summary>The key that verified the token; when it is retired the identity is no longer trusted.</summary>
    public SigningKey? Key { get; init; }

    /// <summary>The token's <c>auth_time</c> (Unix seconds), <see cref="long.MinValue"/> without one (and for API keys).</summary>
    public long AuthTime { get; init; } = long.MinValue;

    /// <summary>The token's <c>acr</c> as an <see cref="AuthenticationLevels"/> rank; 0 when absent or unknown (and for API keys).</summary>
    public int AcrRank { get; init; }

    /// <summary>The token's org-wide <c>role</c> claim, when it has one.</summary>
    public string? Role { get; init; }

    /// <summary>The token's <c>projects</c> claim (project id → role); null when absent.</summary>
    public IReadOnlyDictionary<string, string>? ProjectRoles { get; init; }

    /// <summary>The decoded payload, kept to compute claim headers a route reload introduces after this identity was cached.</summary>
    public byte[]? Payload { get; init; }

    /// <summary>
    /// True for a token identity built without its payload (the token cache's) before a route reload added claim
    /// paths: it cannot compute the new headers, so the cache drops it and the token is validated again. 0 B, two reads.
    /// </summary>
    public bool ClaimPathsStale => _claimValues.Length < ClaimPaths.Current.Length && Payload is null && Subject is not null;

    /// <summary>Header values of <see cref="ClaimPaths"/> by index; computed with the identity.</summary>
    public string?[] ClaimValues { init => _claimValues = value; }

    public bool HasAllScopes(string[] required) => Granted.Satisfies(required, []);

    /// <summary>
    /// The header value of claim path <paramref name="index"/> (null when the credential has no such claim, or is an
    /// API key); <see cref="ClaimPaths.Unsafe"/> when it must not be sent. 0 B unless a reload added paths since this
    /// identity was built: then every value is computed once more from the kept payload.
    /// </summary>
    public string? ClaimValue(int index)
    {
        var values = Volatile.Read(ref _claimValues);
        if ((uint)index < (uint)values.Length)
        {
            return values[index];
        }
        if (Payload is null)
        {
            return null;
        }
        values = ClaimPaths.Compute(Payload, ClaimPaths.Current);
        Volatile.Write(ref _claimValues, values);
        return (uint)index < (uint)values.Length ? values[index] : null;
    }

    /// <summary>Materializes strings from a validated payload: the one allocation of a token's life at this edge.</summary>
    /// <remarks>
    /// Scope sets and short shared claims (org, role) are interned (<see cref="IdentityInterning"/>); only what is the
    /// token's own (sub, sid, jti) is a string of its own. Without <paramref name="keepPayload"/> (the token cache's
    /// identities) no copy of the payload is kept; see <see cref="ClaimPathsStale"/>.
    /// </remarks>
    public static EdgeIdentity FromJwt(in JwtClaims claims, ReadOnlySpan<byte> payload, bool keepPayload = true)
    {
        var scopeSet = claims.Scope.IsPresent
            ? IdentityInterning.Scopes(claims.Scope.GetString(payload)!)
            : IdentityInterning.Scopes(claims.ScopeArray.GetStringArray(payload));
        var subject = claims.Subject.GetString(payload)!;
        var org = IdentityInterning.String(claims.Org.GetString(payload));
        var session = claims.SessionId.GetString(payload);
        var tokenId = claims.TokenId.GetString(payload);
        return new EdgeIdentity
        {
            Subject = subject,
            Org = org,
            SessionId = session,
            TokenId = tokenId,
            SubjectHeader = IdentityHeaderValue.Encode(subject),
            OrgHeader = org is null ? null : IdentityInterning.String(IdentityHeaderValue.Encode(org)),
            SessionHeader = session is null ? null : IdentityHeaderValue.Encode(session),
            TokenIdHeader = tokenId is null ? null : IdentityHeaderValue.Encode(tokenId),
            Scopes = scopeSet.Scopes,
            Granted = scopeSet.Granted,
            ScopesHeader = scopeSet.Header,
            AuthType = IdentityHeaders.AuthTypeJwt,
            ExpiresAt = claims.ExpiresAt,
            IssuedAt = claims.IssuedAt,
            AuthTime = claims.AuthTime,
            AcrRank = claims.AcrRank,
            Key = claims.Key,
            Role = IdentityInterning.String(claims.Role.GetString(payload)),
            ProjectRoles = ReadProjects(payload),
            Payload = keepPayload ? payload.ToArray() : null,
            ClaimValues = ClaimPaths.Current.Length == 0 ? [] : ClaimPaths.Compute(payload, ClaimPaths.Current),
        };
    }

    /// <summary>Most project entries read from a token (issuers other than the control plane may send more; the rest are ignored).</summary>
    internal const int MaxProjects = 256;

    /// <summary>The top-level <c>projects</c> object's string members; anything else in it is ignored.</summary>
    private static Dictionary<string, string>? ReadProjects(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new Utf8JsonReader(payload);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals(ClaimNames.Projects))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return null;
                }
                var projects = new Dictionary<string, string>(StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var project = reader.GetString()!;
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String && projects.Count < MaxProjects)
                    {
                        projects.TryAdd(project, reader.GetString()!);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                return projects;
            }
            return null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
