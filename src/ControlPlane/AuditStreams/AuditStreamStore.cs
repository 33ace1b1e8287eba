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

    /// <summary>Moves the cursor forward (never back: a former lease holder finishing late cannot rewind it).</summary>
    public Task SetCursorAsync(string stream, string orgId, long seq, CancellationToken ct) => db.GlobalAsync((c, tx) => c.ExecuteAsync("""
        INSERT INTO audit_stream_cursors (stream, org_id, seq) VALUES (@stream, @orgId, @seq)
        ON CONFLICT (stream, org_id) DO UPDATE SET seq = excluded.seq WHERE audit_stream_cursors.seq < excluded.seq
        """, new { stream, orgId, seq }, tx), ct);

    /// <summary>
    /// Takes or renews the stream's lease for <paramref name="holder"/> until <paramref name="until"/>: true when this
    /// instance is the one to deliver it now (it held the lease, or the lease had lapsed or was never taken).
    /// </summary>
    public Task<bool> TryLeaseAsync(string stream, string holder, long now, long until, CancellationToken ct) => db.GlobalAsync(async (c, tx) =>
        await c.ExecuteAsync("""
            UPDATE audit_stream_leases SET holder = @holder, lease_until = @until
            WHERE stream = @stream AND (holder = @holder OR lease_until <= @now)
            """, new { stream, holder, now, until }, tx) == 1
        || await c.ExecuteAsync("INSERT INTO audit_stream_leases (stream, holder, lease_until) VALUES (@stream, @holder, @until) ON CONFLICT DO NOTHING",
            new { stream, holder, until }, tx) == 1, ct);

    /// <summary>Gives the lease up (a graceful stop), so another instance takes the stream over at once.</summary>
    public Task ReleaseLeaseAsync(string stream, string holder, CancellationToken ct) => db.GlobalAsync((c, tx) =>
        c.ExecuteAsync("UPDATE audit_stream_leases SET lease_until = 0 WHERE stream = @stream AND holder = @holder", new { stream, holder }, tx), ct);

    /// <summary>The org's next events after <paramref name="after"/>, in chain order (appends are serialised per org).</summary>
    public Task<List<AuditRow>> EventsAfterAsync(string orgId, long after, int take, CancellationToken ct) => db.InOrgAsync(orgId, async (c, tx) =>
        (await c.QueryAsync<AuditRow>("SELECT * FROM audit_events WHERE org_id = @orgId AND seq > @after ORDER BY seq LIMIT @take",
            new { orgId, after, take = (long)take }, tx)).ToList(), ct);
}
