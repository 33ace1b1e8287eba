namespace Authio.ControlPlane.Api;

/// <summary>Where a request came from, as recorded on sessions and audit events.</summary>
internal sealed record ClientInfo(string? Ip, string? UserAgent)
{
    public static ClientInfo From(HttpContext http)
    {
        var ua = http.Request.Headers.UserAgent.ToString();
        if (ua.Length > 512)
        {
            ua = ua[..512];
        }

        return new(http.Connection.RemoteIpAddress?.ToString(), ua.Length == 0 ? null : ua);
    }
}
