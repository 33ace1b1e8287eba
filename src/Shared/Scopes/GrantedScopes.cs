namespace Authio.Shared.Scopes;

/// <summary>
/// A credential's scopes compiled once (when the credential is first validated) so that a check against a route's
/// requirement compares a few strings and allocates nothing: literal scopes for exact comparison, and the prefixes
/// (<c>read:</c>) of the valid patterns (<c>read:*</c>) for <see cref="ScopeGrammar"/>'s wildcard rule.
/// </summary>
public sealed class GrantedScopes
{
    public static readonly GrantedScopes None = new([]);

    private readonly string[] _literals;
    private readonly string[] _prefixes;

    public GrantedScopes(IEnumerable<string> scopes)
    {
        var literals = new List<string>();
        var prefixes = new List<string>();
        foreach (var scope in scopes)
        {
            if (ScopeGrammar.IsPattern(scope))
            {
                prefixes.Add(scope[..^1]);
            }
            else if (!literals.Contains(scope))
            {
                literals.Add(scope);
            }
        }
        _literals = [.. literals];
        _prefixes = [.. prefixes];
    }

    /// <summary>Whether some granted scope covers <paramref name="required"/> (<see cref="ScopeGrammar.Covers"/>).</summary>
    public bool Covers(string required)
    {
        foreach (var literal in _literals)
        {
            if (string.Equals(literal, required, StringComparison.Ordinal))
            {
                return true;
            }
        }
        foreach (var prefix in _prefixes)
        {
            if (required.Length > prefix.Length && required.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Every one of <paramref name="all"/> is covered, and (when <paramref name="any"/> is not empty) at least one of it.</summary>
    public bool Satisfies(string[] all, string[] any)
    {
        foreach (var scope in all)
        {
            if (!Covers(scope))
            {
                return false;
            }
        }
        if (any.Length == 0)
        {
            return true;
        }
        foreach (var scope in any)
        {
            if (Covers(scope))
            {
                return true;
            }
        }
        return false;
    }
}
