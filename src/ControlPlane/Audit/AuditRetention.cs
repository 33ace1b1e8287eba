using Authio.ControlPlane.Orgs;
using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Audit;

/// <summary>Deletes audit events older than each org's retention. The chain stays verifiable from the oldest kept event.</summary>
internal sealed partial class AuditRetention(Db db, OrgStore orgs, TimeProvider time, ILogger<AuditRetention> logger)
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
                deleted += await db.InOrgAsync(orgId, (c, tx) =>
                    c.ExecuteAsync("DELETE FROM audit_events WHERE org_id = @orgId AND ts < @cutoff", new { orgId, cutoff }, tx), ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.OrgFailed(logger, orgId, ex);
            }
        }
        return deleted;
    }
}
