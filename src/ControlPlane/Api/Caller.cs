using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.Api;

/// <summary>The authenticated caller of an admin endpoint, from a validated access token whose session is still live.</summary>
internal sealed record Caller(string OrgId, string UserId, string SessionId, string Role, IReadOnlySet<string> Scopes, ClientInfo Client)
{
    public const string ItemKey = "authio.caller";

    /// <summary>The access token's <c>acr</c> (null: a token without one), for step-up checks.</summary>
    public string? Acr { get; init; }

    /// <summary>The access token's <c>auth_time</c> (unix seconds; null: a token without one).</summary>
    public long? AuthTime { get; init; }

    /// <summary>Mutating admin calls need <c>mod</c> or the <c>admin</c> scope.</summary>
    public bool IsAdmin => Role == Roles.Mod || Scopes.Contains(Roles.AdminScope);

    public static Caller Of(HttpContext http) =>
        http.Items[ItemKey] as Caller ?? throw new InvalidOperationException("Endpoint is not behind the caller filter.");
}
