using System.Collections.Concurrent;
using Authio.Shared.Scopes;

namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// What many cached identities have in common, held once: the same scope set (its array, compiled form and header
/// value) and the same short claim strings (org, role). Tokens of one deployment carry a handful of distinct scope
/// sets and orgs, so a cached token costs a reference for them instead of its own copies (≈ 500 B of a ≈ 2 KB entry,
/// bench/README.md "Memory per cached credential"). Each table is bounded: past <see cref="MaxEntries"/> distinct
/// values new ones are simply not shared (correct, only bigger), so a flood of distinct claims cannot grow them.
/// Off the hot path: runs once per validated token.
/// </summary>
internal static class IdentityInterning
{
    /// <summary>Distinct values kept per table (scope sets; strings).</summary>
    public const int MaxEntries = 4096;

    /// <summary>Values longer than this are not interned (an id-like claim would only fill the table).</summary>
    private const int MaxInternedLength = 128;

    private static readonly ConcurrentDictionary<string, ScopeSet> ScopeSets = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> Strings = new(StringComparer.Ordinal);

    /// <summary>The shared scope set for the space-separated <paramref name="scope"/> claim.</summary>
    public static ScopeSet Scopes(string scope)
    {
        if (ScopeSets.TryGetValue(scope, out var shared))
        {
            return shared;
        }
        var set = ScopeSet.Create(scope.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return scope.Length <= MaxInternedLength * 8 && ScopeSets.Count < MaxEntries ? ScopeSets.GetOrAdd(scope, set) : set;
    }

    /// <summary>The shared scope set for the <c>scp</c> array claim.</summary>
    public static ScopeSet Scopes(string[] scopes) => scopes.Length == 0 ? ScopeSet.Empty : Scopes(string.Join(' ', scopes));

    /// <summary>One shared instance of <paramref name="value"/> (org ids, roles).</summary>
    public static string? String(string? value)
    {
        if (value is null || value.Length > MaxInternedLength)
        {
            return value;
        }
        if (Strings.TryGetValue(value, out var shared))
        {
            return shared;
        }
        return Strings.Count < MaxEntries ? Strings.GetOrAdd(value, value) : value;
    }

    /// <summary>Empties the tables (tests).</summary>
    internal static void Reset()
    {
        ScopeSets.Clear();
        Strings.Clear();
    }

    /// <summary>Counts (the memory probe and tests).</summary>
    internal static (int ScopeSets, int Strings) Counts => (ScopeSets.Count, Strings.Count);
}

/// <summary>A scope set as an identity uses it: the scopes, compiled for matching, and the upstream header value.</summary>
internal sealed class ScopeSet
{
    public static readonly ScopeSet Empty = Create([]);

    private ScopeSet(string[] scopes, GrantedScopes granted, string header)
    {
        Scopes = scopes;
        Granted = granted;
        Header = header;
    }

    public string[] Scopes { get; }
    public GrantedScopes Granted { get; }
    public string Header { get; }

    public static ScopeSet Create(string[] scopes) =>
        new(scopes, scopes.Length == 0 ? GrantedScopes.None : new GrantedScopes(scopes), IdentityHeaderValue.Encode(string.Join(' ', scopes)));
}
