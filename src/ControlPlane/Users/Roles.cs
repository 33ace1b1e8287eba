using Authio.Shared.Scopes;

namespace Authio.ControlPlane.Users;

/// <summary>Built-in roles; the one table mapping them to access-token scopes lives in <see cref="RoleScopes"/> (shared with the edge).</summary>
internal static class Roles
{
    public const string Explore = RoleScopes.Explore;
    public const string Create = RoleScopes.Create;
    public const string Mod = RoleScopes.Mod;
    public const string AdminScope = RoleScopes.AdminScope;

    public static bool IsKnown(string? role) => RoleScopes.IsKnown(role);

    public static IReadOnlyList<string> ScopesOf(string role) => RoleScopes.ScopesOf(role);

    public static int RankOf(string? role) => RoleScopes.RankOf(role);

    /// <summary>On a project the higher of the org-wide and the project role applies.</summary>
    public static string Higher(string a, string? b) => RoleScopes.Higher(a, b) ?? a;
}
