using System.Diagnostics.CodeAnalysis;
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
/// <remarks>
/// Laid out for the token cache, which holds 100 000 of these by default: what is the token's own (sub, sid, jti,
/// times) sits in the object; what it shares with the other tokens of its issuer key, org, role, scope set and
/// assurance level (<see cref="IdentityTraits"/>) is one reference to an interned instance; header forms that differ
/// from the value and a kept payload, both rare, sit in a side object. ≈ 88 B per token instead of ≈ 200
/// (bench/README.md "Memory per cached credential"). Identities built with an object initializer (API keys, tests)
/// get traits of their own; the public surface is the same either way.
/// </remarks>
internal sealed class EdgeIdentity
{
    private static readonly string?[] NoClaimValues = [];

    private const byte SameSubjectHeader = 1, SameSessionHeader = 2, SameTokenIdHeader = 4;

    private readonly IdentityTraits _traits;
    private Extras? _extras;
    private string?[] _claimValues = NoClaimValues;
    /// <summary>Which header forms are the value itself (<see cref="IdentityHeaderValue.Encode"/> returned it unchanged).</summary>
    private readonly byte _same;

    public EdgeIdentity() => _traits = new IdentityTraits();

    // Scopes, ScopesHeader and AuthType are the traits' (set when they were made): the analyzer cannot see through them.
#pragma warning disable CS8618
    [SetsRequiredMembers]
    private EdgeIdentity(IdentityTraits traits, string subject, string? session, string? tokenId)
    {
        _traits = traits;
        Subject = subject;
        SessionId = session;
        TokenId = tokenId;
        _same = (byte)(Same(subject, SameSubjectHeader) | Same(session, SameSessionHeader) | Same(tokenId, SameTokenIdHeader));

        byte Same(string? value, byte flag)
        {
            if (value is null)
            {
                return 0;
            }
            var encoded = IdentityHeaderValue.Encode(value);
            if (ReferenceEquals(encoded, value))
            {
                return flag;
            }
            var extras = _extras ??= new Extras();
            switch (flag)
            {
                case SameSubjectHeader: extras.SubjectHeader = encoded; break;
                case SameSessionHeader: extras.SessionHeader = encoded; break;
                default: extras.TokenIdHeader = encoded; break;
            }
            return 0;
        }
    }
#pragma warning restore CS8618

    private Extras InitExtras => _extras ??= new Extras();

    /// <summary>The shared part (tests: identities of one org, scope set and key hold the same instance).</summary>
    internal IdentityTraits Traits => _traits;

    /// <summary>The token's <c>sub</c>; null for API keys, which identify a key, not a person.</summary>
    public required string? Subject { get; init; }
    /// <summary>Header-safe forms (see <see cref="IdentityHeaderValue"/>), computed once per credential.</summary>
    public string? SubjectHeader
    {
        get => (_same & SameSubjectHeader) != 0 ? Subject : _extras?.SubjectHeader;
        init { if (value is not null) { InitExtras.SubjectHeader = value; } }
    }
    public string? OrgHeader { get => _traits.OrgHeader; init => _traits.OrgHeader = value; }
    public string? SessionHeader
    {
        get => (_same & SameSessionHeader) != 0 ? SessionId : _extras?.SessionHeader;
        init { if (value is not null) { InitExtras.SessionHeader = value; } }
    }
    public string? TokenIdHeader
    {
        get => (_same & SameTokenIdHeader) != 0 ? TokenId : _extras?.TokenIdHeader;
        init { if (value is not null) { InitExtras.TokenIdHeader = value; } }
    }
    /// <summary>The API key id; null for tokens.</summary>
    public string? KeyId { get => _traits.KeyId; init => _traits.KeyId = value; }
    public string? Org { get => _traits.Org; init => _traits.Org = value; }
    public string? SessionId { get; init; }
    public string? TokenId { get; init; }

    public required string[] Scopes
    {
        get => _traits.Scopes;
        init => _traits.Scopes = value;
    }

    /// <summary>
    /// <see cref="Scopes"/> compiled once for <see cref="ScopeGrammar"/> matching (wildcards included): the shared
    /// <see cref="ScopeSet"/>'s for tokens, else compiled on first use (a benign race: both results are equal).
    /// </summary>
    public GrantedScopes Granted
    {
        get => _traits.Granted ?? Volatile.Read(ref _traits.Compiled) ?? _traits.CompileScopes();
        init => _traits.Granted = value;
    }

    /// <summary>Space-separated scopes as sent upstream.</summary>
    public required string ScopesHeader { get => _traits.ScopesHeader; init => _traits.ScopesHeader = value; }
    public required string AuthType { get => _traits.AuthType; init => _traits.AuthType = value; }
    public long ExpiresAt { get; init; }
    public long IssuedAt { get; init; }

    /// <summary>
    /// The revocation snapshot (<see cref="Revocation.RevocationSet.Generation"/>) whose filter last passed every id of
    /// this identity (0: none yet). A snapshot's verdict on an identity can only turn from revoked to clean as time
    /// passes, never back, so until the next snapshot a repeat of the credential skips hashing and probing its ids
    /// (RevocationBenchmarks). Written by whichever request checked last: an older generation only means a re-check.
    /// </summary>
    internal long CleanInRevocationGeneration;
    /// <summary>The key that verified the token; when it is retired the identity is no longer trusted.</summary>
    public SigningKey? Key { get => _traits.Key; init => _traits.Key = value; }

    /// <summary>The token's <c>auth_time</c> (Unix seconds), <see cref="long.MinValue"/> without one (and for API keys).</summary>
    public long AuthTime { get; init; } = long.MinValue;

    /// <summary>The token's <c>acr</c> as an <see cref="AuthenticationLevels"/> rank; 0 when absent or unknown (and for API keys).</summary>
    public int AcrRank { get => _traits.AcrRank; init => _traits.AcrRank = value; }

    /// <summary>The token's org-wide <c>role</c> claim, when it has one.</summary>
    public string? Role { get => _traits.Role; init => _traits.Role = value; }

    /// <summary>The token's <c>projects</c> claim (project id → role); null when absent.</summary>
    public IReadOnlyDictionary<string, string>? ProjectRoles { get => _traits.ProjectRoles; init => _traits.ProjectRoles = value; }

    /// <summary>The decoded payload, kept to compute claim headers a route reload introduces after this identity was cached.</summary>
    public byte[]? Payload { get => _extras?.Payload; init { if (value is not null) { InitExtras.Payload = value; } } }

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
        if (Payload is not { } payload)
        {
            return null;
        }
        values = ClaimPaths.Compute(payload, ClaimPaths.Current);
        Volatile.Write(ref _claimValues, values);
        return (uint)index < (uint)values.Length ? values[index] : null;
    }

    /// <summary>Materializes strings from a validated payload: the one allocation of a token's life at this edge.</summary>
    /// <remarks>
    /// Traits (scope set, org, role, key, assurance) are interned (<see cref="IdentityTraits.Shared"/>); only what is
    /// the token's own (sub, sid, jti) is a string of its own. Without <paramref name="keepPayload"/> (the token cache's
    /// identities) no copy of the payload is kept; see <see cref="ClaimPathsStale"/>.
    /// </remarks>
    public static EdgeIdentity FromJwt(in JwtClaims claims, ReadOnlySpan<byte> payload, bool keepPayload = true)
    {
        var scopeSet = claims.Scope.IsPresent
            ? IdentityInterning.Scopes(claims.Scope.GetString(payload)!)
            : IdentityInterning.Scopes(claims.ScopeArray.GetStringArray(payload));
        var traits = IdentityTraits.Shared(scopeSet, IdentityInterning.String(claims.Org.GetString(payload)),
            IdentityInterning.String(claims.Role.GetString(payload)), claims.Key, claims.AcrRank, ReadProjects(payload));
        var identity = new EdgeIdentity(traits, claims.Subject.GetString(payload)!, claims.SessionId.GetString(payload), claims.TokenId.GetString(payload))
        {
            ExpiresAt = claims.ExpiresAt,
            IssuedAt = claims.IssuedAt,
            AuthTime = claims.AuthTime,
            ClaimValues = ClaimPaths.Current.Length == 0 ? NoClaimValues : ClaimPaths.Compute(payload, ClaimPaths.Current),
        };
        if (keepPayload)
        {
            (identity._extras ??= new Extras()).Payload = payload.ToArray();
        }
        return identity;
    }

    /// <summary>The rare per-identity parts: header forms that differ from the value, a kept payload.</summary>
    private sealed class Extras
    {
        public string? SubjectHeader;
        public string? SessionHeader;
        public string? TokenIdHeader;
        public byte[]? Payload;
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
