namespace Authio.Shared.Scopes;

/// <summary>
/// What a scope means, for the control plane (who may grant what) and the edge (what a route requires) alike.
/// A scope is a non-empty run of visible ASCII without spaces, segments separated by ':'. A <em>pattern</em> ends in a
/// whole last segment <c>*</c> (<c>read:*</c>, <c>a:b:*</c>) and stands for every scope that starts with its prefix
/// (<c>read:</c>) and has at least one more character: <c>read:*</c> covers <c>read:applications</c>, <c>read:a:b</c>
/// and <c>read:*</c> itself, but not <c>read</c> nor <c>write:x</c>.
/// <list type="bullet">
/// <item>Granted (held by a credential): a valid pattern covers as above; anything else, including a misplaced
/// <c>*</c> (<c>re*d</c>, <c>*:x</c>) and a bare <c>*</c>, is an ordinary literal that covers only itself.</item>
/// <item>Required (named by a route or asked for on an API key): compared literally against what is granted, so a
/// required <c>write:*</c> is covered only by a granted <c>write:*</c> (or a broader pattern such as a granted
/// <c>write:*</c> covering <c>write:a:*</c>). A misplaced or bare <c>*</c> is refused when it is configured.</item>
/// </list>
/// </summary>
public static class ScopeGrammar
{
    public const char Separator = ':';
    public const string Wildcard = "*";

    /// <summary>Longest scope accepted in configuration (a route's requirement).</summary>
    public const int MaxLength = 200;

    /// <summary>Whether <paramref name="granted"/> covers <paramref name="required"/> (see the type's summary).</summary>
    public static bool Covers(string granted, string required) =>
        string.Equals(granted, required, StringComparison.Ordinal)
        || (IsPattern(granted) && required.Length > granted.Length - 1
            && required.AsSpan().StartsWith(granted.AsSpan(0, granted.Length - 1), StringComparison.Ordinal));

    /// <summary>Whether any of <paramref name="granted"/> covers <paramref name="required"/>.</summary>
    public static bool AnyCovers(IEnumerable<string> granted, string required)
    {
        foreach (var scope in granted)
        {
            if (Covers(scope, required))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A granted scope with a wildcard meaning: at least one segment before a whole last segment <c>*</c>, no other <c>*</c>.</summary>
    public static bool IsPattern(string scope)
    {
        if (scope.Length < 3 || !scope.EndsWith(":*", StringComparison.Ordinal))
        {
            return false;
        }
        var prefix = scope.AsSpan(0, scope.Length - 2);
        return !prefix.Contains('*') && prefix[0] != Separator && prefix[^1] != Separator
            && !prefix.Contains("::", StringComparison.Ordinal);
    }

    /// <summary>
    /// Checks a scope written in configuration (a route's requirement): visible ASCII, no empty segment, and <c>*</c>
    /// only as a whole last segment after at least one named segment. A bare <c>*</c> is refused: it would require a
    /// credential that holds everything, which no issuer grants.
    /// </summary>
    public static bool TryValidate(string scope, out string? error)
    {
        error = null;
        if (scope.Length == 0 || scope.Length > MaxLength)
        {
            error = $"'{scope}' must be 1 to {MaxLength} characters";
            return false;
        }
        foreach (var c in scope)
        {
            if (c is <= ' ' or > '~' or '"' or '\\' or ',')
            {
                error = $"'{scope}' may contain only visible ASCII characters other than '\"', '\\' and ','";
                return false;
            }
        }
        var segments = scope.Split(Separator);
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment.Length == 0)
            {
                error = $"'{scope}' has an empty segment";
                return false;
            }
            if (segment.Contains('*') && (segment != Wildcard || i != segments.Length - 1))
            {
                error = $"'{scope}': '*' is allowed only as a whole last segment (e.g. 'read:*')";
                return false;
            }
        }
        if (scope == Wildcard)
        {
            error = "'*' alone is not allowed: name at least one segment before it (e.g. 'read:*')";
            return false;
        }
        return true;
    }
}
