using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.Passkeys;

/// <summary>
/// Passkeys belong to a person, not to one org: their events go to each org the person is an active member of (each
/// org's mods see how their members sign in), or to the system chain when there is none (an unknown credential).
/// </summary>
internal sealed class PasskeyAudit(AuditLog audit, UserStore users)
{
    public async Task RecordAsync(string? userId, AuditEntry entry, CancellationToken ct)
    {
        IReadOnlyList<string> orgs = userId is null ? [] : (await users.OrgsOfAsync(userId, ct)).Where(o => o.Active).Select(o => o.OrgId).ToList();
        if (orgs.Count == 0)
        {
            orgs = [AuditLog.SystemOrg];
        }

        foreach (var org in orgs)
        {
            await audit.RecordAsync(entry with { OrgId = org, UserId = userId }, ct);
        }
    }
}
