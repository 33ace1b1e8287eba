using Authio.ControlPlane.Orgs;

namespace Authio.ControlPlane.Audit;

/// <summary>
/// Removes audit events older than each org's retention, always as a prefix of the chain and behind a signed cut
/// record (<see cref="AuditSeals.CutAsync"/>), so verification tells retention from deletion.
/// </summary>
internal sealed partial class AuditRetention(AuditSeals seals, OrgStore orgs, TimeProvider time, ILogger<AuditRetention> logger)
{
    public async Task<int> PruneAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var deleted = 0;
        foreach (var orgId in (await orgs.AllIdsAsync(ct)).Append(AuditLog.SystemOrg))
        {
            // Each org on its own: one org's failure (bad data, a lock timeout) must not stop the others' retention.
            try
            {
                var org = orgId == AuditLog.SystemOrg ? null : await orgs.GetAsync(orgId, ct);
                var cutoff = (now - TimeSpan.FromDays(orgs.RetentionDays(org))).ToUnixTimeMilliseconds();
                deleted += await seals.CutAsync(orgId, cutoff, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.OrgFailed(logger, orgId, ex);
            }
        }
        return deleted;
    }
}
