using Authio.ControlPlane.Api;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.Orgs;

/// <summary>
/// Who may act beyond one org. An operator is a <c>mod</c> of the operator org (the bootstrap org, flagged
/// <c>orgs.is_operator</c>; on stores from before the flag, the oldest org) or a user listed in
/// <c>ControlPlane:Operators</c> (user ids or emails). Every other caller, a tenant org's mod included, acts only inside
/// its own org.
/// </summary>
internal sealed class PlatformOperators(OrgStore orgs, UserStore users, ControlPlaneOptions options)
{
    // The flag is set once (migration or bootstrap) and never moves: cached after the first hit.
    private string? _operatorOrg;

    public async Task<string?> OperatorOrgIdAsync(CancellationToken ct) =>
        _operatorOrg ??= await orgs.OperatorOrgIdAsync(ct);

    public async Task<bool> IsOperatorAsync(Caller caller, CancellationToken ct)
    {
        if (caller.Role == Roles.Mod && caller.OrgId == await OperatorOrgIdAsync(ct))
        {
            return true;
        }

        var listed = options.Operators;
        if (listed.Length == 0)
        {
            return false;
        }

        if (listed.Contains(caller.UserId, StringComparer.Ordinal))
        {
            return true;
        }

        if (!listed.Any(o => o.Contains('@', StringComparison.Ordinal)))
        {
            return false;
        }

        var user = await users.GetInOrgAsync(caller.OrgId, caller.UserId, ct);
        return user is not null && listed.Any(o => string.Equals(UserStore.NormalizeEmail(o), user.Email, StringComparison.Ordinal));
    }

    /// <summary>
    /// Orgs whose <c>edge:sync</c> keys edges may use (the edge endpoints see every org's data):
    /// <c>ControlPlane:ApiKeys:EdgeOrgIds</c> when set, otherwise the operator org.
    /// </summary>
    public async Task<bool> IsEdgeOrgAsync(string orgId, CancellationToken ct) =>
        options.ApiKeys.EdgeOrgIds.Length > 0
            ? options.ApiKeys.EdgeOrgIds.Contains(orgId, StringComparer.Ordinal)
            : orgId == await OperatorOrgIdAsync(ct);
}

/// <summary>Operator-only endpoints: 403 <c>forbidden</c> for everyone else (behind the caller filter).</summary>
internal sealed class OperatorFilter(PlatformOperators operators) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        await operators.IsOperatorAsync(Caller.Of(context.HttpContext), context.HttpContext.RequestAborted)
            ? await next(context)
            : Failure.Forbidden("Only a platform operator may do this.");
}
