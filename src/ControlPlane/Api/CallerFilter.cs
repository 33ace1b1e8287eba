using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.Tokens;

namespace Authio.ControlPlane.Api;

/// <summary>Authenticates <c>/v1</c> admin calls: a valid access token from our own keys, whose session has not ended.</summary>
internal sealed class CallerFilter(AccessTokenValidator validator, SessionStore sessions) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Problems.Unauthorized("A bearer access token is required.");
        var claims = await validator.ValidateAsync(header["Bearer ".Length..].Trim());
        if (claims is null) return Problems.Unauthorized("The access token is invalid or expired.");
        if (!await sessions.IsLiveAsync(claims.OrgId, claims.SessionId, claims.UserId, http.RequestAborted))
            return Problems.Unauthorized("The session has ended.");
        http.Items[Caller.ItemKey] = new Caller(claims.OrgId, claims.UserId, claims.SessionId, claims.Role, claims.Scopes, ClientInfo.From(http));
        return await next(context);
    }
}

/// <summary>Admin-only endpoints: <c>mod</c> role or <c>admin</c> scope.</summary>
internal sealed class AdminFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        Caller.Of(context.HttpContext).IsAdmin ? await next(context) : Problems.Forbidden();
}
