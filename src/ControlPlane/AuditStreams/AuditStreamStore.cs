using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.AuditStreams;

/// <summary>What each audit stream has delivered (<c>audit_stream_cursors</c>: per stream and org, the last seq) and what comes next.</summary>
internal sealed class AuditStreamStore(Db db)
{
    public Task<Dictionary<string, long>> CursorsAsync(string stream, CancellationToken ct) => db.GlobalAsync(async (c, tx) =>
        (await c.QueryAsync<(string OrgId, long Seq)>("SELECT org_id, seq FROM audit_stream_cursors WHERE stream = @stream", new { stream }, tx))
            .ToDictionary(r => r.OrgId, r => r.Seq, StringComparer.Ordinal), ct);

    public Task SetCursorAsync(string stream, string orgId, long seq, CancellationToken ct) => db.GlobalAsync(async (c, tx) =>
    {
        var updated = await c.ExecuteAsync("UPDATE audit_stream_cursors SET seq = @seq WHERE stream = @stream AND org_id = @orgId", new { stream, orgId, seq }, tx);
        return updated > 0 ? updated : await c.ExecuteAsync("INSERT INTO audit_stream_cursors (stream, org_id, seq) VALUES (@stream, @orgId, @seq)", new { stream, orgId, seq }, tx);
    }, ct);

    /// <summary>The org's next events after <paramref name="after"/>, in chain order (appends are serialised per org).</summary>
    public Task<List<AuditRow>> EventsAfterAsync(string orgId, long after, int take, CancellationToken ct) => db.InOrgAsync(orgId, async (c, tx) =>
        (await c.QueryAsync<AuditRow>("SELECT * FROM audit_events WHERE org_id = @orgId AND seq > @after ORDER BY seq LIMIT @take",
            new { orgId, after, take = (long)take }, tx)).ToList(), ct);
}
