using Authio.ControlPlane.Tokens;
using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.Api;

/// <summary>
/// Authenticates <c>/v1</c> admin calls: a valid access token from our own keys that the live revocation state does not
/// refuse (session, <c>jti</c>, user not-before), from an active member; the caller's role is the lower of the token's and
/// the current one (see <see cref="CallerAuthority"/>).
/// </summary>
internal sealed class CallerFilter(CallerAuthority authority) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Failure.Unauthorized("A bearer access token is required.");
        }

        var claims = await authority.ValidateAsync(header["Bearer ".Length..].Trim(), http.RequestAborted);
        if (claims is null)
        {
            return Failure.Unauthorized("The access token is invalid or expired.");
        }

        var verdict = await authority.CheckAsync(claims, http.RequestAborted);
        if (!verdict.Allowed)
        {
            return Failure.Unauthorized(verdict.Refusal!);
        }

        http.Items[Caller.ItemKey] = new Caller(claims.OrgId, claims.UserId, claims.SessionId, verdict.Role!, CurrentScopes(claims, verdict.Role!), ClientInfo.From(http))
        {
            Acr = claims.Acr, AuthTime = claims.AuthTime,
        };
        return await next(context);
    }

    /// <summary>The token's scopes that the current role still carries (all of them unless the user was demoted).</summary>
    private static IReadOnlySet<string> CurrentScopes(AccessTokenClaims claims, string role)
    {
        if (role == claims.Role)
        {
            return claims.Scopes;
        }

        var held = Roles.ScopesOf(role);
        // Kept when the current role still covers it, by the grammar the edge uses (src/Shared/Scopes).
        return claims.Scopes.Where(scope => Shared.Scopes.ScopeGrammar.AnyCovers(held, scope)).ToHashSet(StringComparer.Ordinal);
    }
}

/// <summary>Admin-only endpoints: <c>mod</c> role or <c>admin</c> scope.</summary>
internal sealed class AdminFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        Caller.Of(context.HttpContext).IsAdmin ? await next(context) : Failure.Forbidden();
}
