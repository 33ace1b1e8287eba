using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Errors;
using Authio.Shared.Scopes;

namespace Authio.EdgeProxy.Policy;

/// <summary>
/// The route checks that depend on the credential beyond its org: the issuer (<c>Authio.Issuers</c>), the project role
/// (<c>Authio.ProjectRouteValue</c>), the scopes (<c>Authio.Scopes</c> all of, <c>Authio.AnyScopes</c> any of, with
/// <see cref="ScopeGrammar"/> wildcards), and whether the claims the route maps to headers can be sent. Everything it
/// reads was compiled with the route or the credential: a check allocates nothing.
/// </summary>
internal static class RouteAuthorization
{
    public static EdgeError? Check(HttpContext context, RoutePolicy policy, EdgeIdentity identity)
    {
        if (policy.IssuerError is not null
            && (identity.Key is { } key ? !policy.AcceptsIssuer(key.Issuer.RouteName) : !policy.AcceptsApiKeys))
        {
            return policy.IssuerError;
        }
        var granted = identity.Granted;
        if (policy.ProjectRouteValue is not null)
        {
            if (identity.ProjectRoles is not { } projects
                || context.Request.RouteValues[policy.ProjectRouteValue] is not string project
                || !projects.TryGetValue(project, out var projectRole)
                || !RoleScopes.IsKnown(projectRole))
            {
                return EdgeError.ProjectMismatch;
            }
            // On a project the higher of the org-wide and the project role applies, as in the control plane.
            granted = RoleScopes.GrantedOf(RoleScopes.Higher(identity.Role, projectRole));
        }
        if (policy.ScopeError is not null && !granted.Satisfies(policy.RequiredScopes, policy.AnyScopes))
        {
            return policy.ScopeError;
        }
        foreach (var header in policy.ClaimHeaders)
        {
            if (ReferenceEquals(identity.ClaimValue(header.Index), ClaimPaths.Unsafe))
            {
                return header.UnsafeValue;
            }
        }
        return null;
    }
}
