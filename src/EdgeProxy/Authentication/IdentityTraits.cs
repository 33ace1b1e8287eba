using System.Collections.Concurrent;
using Authio.EdgeProxy.Keys;
using Authio.Shared.Scopes;
using Authio.Shared.Tokens;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// What an <see cref="EdgeIdentity"/> shares with the other tokens of the same signing key, org, role, scope set and
/// assurance level: one instance for all of them (<see cref="Shared"/>), so a cached token costs a reference instead of
/// eleven fields. Fields, not properties: <see cref="EdgeIdentity"/>'s init accessors fill an instance of its own, and
/// nothing writes to a shared one after <see cref="Shared"/> returns it.
/// </summary>
internal sealed class IdentityTraits
{
    /// <summary>Distinct trait sets kept; when full the table starts afresh (identities keep theirs), so signing-key
    /// rotations over a long uptime cannot end sharing.</summary>
    public const int MaxEntries = IdentityInterning.MaxEntries;

    private static readonly ConcurrentDictionary<TraitsKey, IdentityTraits> Table = new();

    public string? KeyId;
    public string? Org;
    public string? OrgHeader;
    public string? Role;
    public string[] Scopes = [];
    public GrantedScopes? Granted;
    /// <summary><see cref="Scopes"/> compiled on first use when <see cref="Granted"/> was not given.</summary>
    public GrantedScopes? Compiled;
    public string ScopesHeader = "";
    public string AuthType = "";
    public SigningKey? Key;
    public int AcrRank;
    public IReadOnlyDictionary<string, string>? ProjectRoles;

    public GrantedScopes CompileScopes()
    {
        var compiled = Scopes.Length == 0 ? GrantedScopes.None : new GrantedScopes(Scopes);
        Volatile.Write(ref Compiled, compiled);
        return compiled;
    }

    /// <summary>
    /// The shared traits of a validated token. A token with a <c>projects</c> claim gets its own (the map is the
    /// token's); <paramref name="scopes"/>, <paramref name="org"/> and <paramref name="role"/> come interned
    /// (<see cref="IdentityInterning"/>), so equal values are usually the same references. Off the hot path.
    /// </summary>
    public static IdentityTraits Shared(ScopeSet scopes, string? org, string? role, SigningKey? key, int acrRank, IReadOnlyDictionary<string, string>? projectRoles)
    {
        if (projectRoles is null && Table.TryGetValue(new TraitsKey(scopes, org, role, key, acrRank), out var shared))
        {
            return shared;
        }
        var traits = new IdentityTraits
        {
            Org = org,
            OrgHeader = org is null ? null : IdentityInterning.String(IdentityHeaderValue.Encode(org)),
            Role = role,
            Scopes = scopes.Scopes,
            Granted = scopes.Granted,
            ScopesHeader = scopes.Header,
            AuthType = IdentityHeaders.AuthTypeJwt,
            Key = key,
            AcrRank = acrRank,
            ProjectRoles = projectRoles,
        };
        if (projectRoles is not null)
        {
            return traits;
        }
        if (Table.Count >= MaxEntries)
        {
            Table.Clear();
        }
        return Table.GetOrAdd(new TraitsKey(scopes, org, role, key, acrRank), traits);
    }

    /// <summary>Empties the table (tests).</summary>
    internal static void Reset() => Table.Clear();

    /// <summary>Distinct trait sets held (the memory probe and tests).</summary>
    internal static int Count => Table.Count;

    /// <summary>Scope set and key by reference (both are shared instances), org and role by value.</summary>
    private readonly record struct TraitsKey(ScopeSet Scopes, string? Org, string? Role, SigningKey? Key, int AcrRank)
    {
        public bool Equals(TraitsKey other) =>
            ReferenceEquals(Scopes, other.Scopes) && ReferenceEquals(Key, other.Key) && AcrRank == other.AcrRank
            && string.Equals(Org, other.Org, StringComparison.Ordinal) && string.Equals(Role, other.Role, StringComparison.Ordinal);

        public override int GetHashCode() => HashCode.Combine(
            System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Scopes), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Key),
            AcrRank, Org is null ? 0 : string.GetHashCode(Org, StringComparison.Ordinal), Role is null ? 0 : string.GetHashCode(Role, StringComparison.Ordinal));
    }
}
