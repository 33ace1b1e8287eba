using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Fleet;

/// <summary>One edge's latest report (<c>report</c>: its JSON as received, re-serialized).</summary>
internal sealed class EdgeRow
{
    public string Id { get; set; } = "";
    public string KeyId { get; set; } = "";
    public string Version { get; set; } = "";
    public long LastSeen { get; set; }
    public long IntervalMs { get; set; }
    public string Report { get; set; } = "";
}

/// <summary>The <c>edges</c> table: platform data, outside every org (no row-level security).</summary>
internal sealed class FleetStore(Db db)
{
    public Task UpsertAsync(EdgeRow row, CancellationToken ct) => db.GlobalAsync((c, tx) => c.ExecuteAsync("""
        INSERT INTO edges (id, key_id, version, last_seen, interval_ms, report) VALUES (@Id, @KeyId, @Version, @LastSeen, @IntervalMs, @Report)
        ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, version = excluded.version, last_seen = excluded.last_seen,
          interval_ms = excluded.interval_ms, report = excluded.report
        """, row, tx), ct);

    public Task<bool> ExistsAsync(string id, CancellationToken ct) => db.GlobalAsync(async (c, tx) =>
        await c.ExecuteScalarAsync<long?>("SELECT 1 FROM edges WHERE id = @id", new { id }, tx) is not null, ct);

    public Task<List<EdgeRow>> ListAsync(CancellationToken ct) => db.GlobalAsync(async (c, tx) => (await c.QueryAsync<EdgeRow>(
        "SELECT id, key_id, version, last_seen, interval_ms, report FROM edges ORDER BY id", transaction: tx)).ToList(), ct);

    /// <summary>Removes edges silent for <paramref name="intervals"/> of their own report intervals.</summary>
    public Task<int> PruneAsync(long now, int intervals, CancellationToken ct) => db.GlobalAsync((c, tx) => c.ExecuteAsync(
        "DELETE FROM edges WHERE last_seen + @intervals * interval_ms < @now", new { now, intervals }, tx), ct);
}
