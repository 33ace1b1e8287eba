namespace Authio.ControlPlane.Users;

/// <summary>Built-in roles and the one table mapping them to access-token scopes.</summary>
internal static class Roles
{
    public const string Explore = "explore";
    public const string Create = "create";
    public const string Mod = "mod";
    public const string AdminScope = "admin";

    private static readonly Dictionary<string, (int Rank, string[] Scopes)> Table = new()
    {
        [Explore] = (1, ["read:*"]),
        [Create] = (2, ["read:*", "write:*"]),
        [Mod] = (3, ["read:*", "write:*", AdminScope]),
    };

    public static bool IsKnown(string? role) => role is not null && Table.ContainsKey(role);

    public static IReadOnlyList<string> ScopesOf(string role) => Table[role].Scopes;

    /// <summary>On a project the higher of the org-wide and the project role applies.</summary>
    public static string Higher(string a, string? b) => b is null || Table[a].Rank >= Table[b].Rank ? a : b;
}
