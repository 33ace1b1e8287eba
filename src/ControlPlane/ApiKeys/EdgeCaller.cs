namespace Authio.ControlPlane.ApiKeys;

/// <summary>
/// An edge authenticated with one of its operator's <c>edge:sync</c> keys (<see cref="ApiKeyLookupService.AuthenticateEdgeAsync"/>),
/// kept in <c>HttpContext.Items</c> by <see cref="EdgeKeyFilter"/> for the edge endpoints.
/// </summary>
internal sealed record EdgeCaller(string OrgId, string KeyId)
{
    public const string ItemKey = "authio.edge";

    public static EdgeCaller Of(HttpContext http) =>
        http.Items[ItemKey] as EdgeCaller ?? throw new InvalidOperationException("Endpoint is not behind the edge key filter.");
}
