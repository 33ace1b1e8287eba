namespace Authio.Shared.Scopes;

/// <summary>
/// The built-in roles and the scopes each one carries: the control plane puts them in access tokens, and the edge
/// uses them to evaluate a project-scoped role (<c>Authio.ProjectRouteValue</c>), so both halves agree.
/// </summary>
public static class RoleScopes
{
    public const string Explore = "explore";
    public const string Create = "create";
    public const string Mod = "mod";
    public const string AdminScope = "admin";

    private static readonly Dictionary<string, (int Rank, string[] Scopes, GrantedScopes Granted)> Table = new(StringComparer.Ordinal)
    {
        [Explore] = (1, ["read:*"], new GrantedScopes(["read:*"])),
        [Create] = (2, ["read:*", "write:*"], new GrantedScopes(["read:*", "write:*"])),
        [Mod] = (3, ["read:*", "write:*", AdminScope], new GrantedScopes(["read:*", "write:*", AdminScope])),
    };

    public static bool IsKnown(string? role) => role is not null && Table.ContainsKey(role);

    /// <summary>The scopes of a known role, as written into access tokens.</summary>
    public static IReadOnlyList<string> ScopesOf(string role) => Table[role].Scopes;

    /// <summary>The scopes of <paramref name="role"/> compiled for matching; <see cref="GrantedScopes.None"/> for an unknown role.</summary>
    public static GrantedScopes GrantedOf(string? role) =>
        role is not null && Table.TryGetValue(role, out var entry) ? entry.Granted : GrantedScopes.None;

    /// <summary>0 for an unknown or missing role, else 1 (explore) to 3 (mod).</summary>
    public static int RankOf(string? role) => role is not null && Table.TryGetValue(role, out var entry) ? entry.Rank : 0;

    /// <summary>On a project the higher of the org-wide and the project role applies (<paramref name="a"/> on a tie); null when neither is known.</summary>
    public static string? Higher(string? a, string? b)
    {
        var rankA = RankOf(a);
        var rankB = RankOf(b);
        return rankA == 0 && rankB == 0 ? null : rankA >= rankB ? a : b;
    }
}
