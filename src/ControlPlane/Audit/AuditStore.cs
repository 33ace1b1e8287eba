using System.Data.Common;
using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Audit;

/// <summary>
/// The audit tables: <c>audit_events</c> (the per-org hash chain), <c>audit_seals</c> (signed checkpoints and retention
/// cuts) and the one-time <c>audit_mac_backfill</c> marker. Methods taking a connection run inside the caller's org
/// transaction; the chain's rules live in <see cref="AuditLog"/> and <see cref="AuditSeals"/>.
/// </summary>
internal sealed class AuditStore(Db db)
{
    /// <summary>
    /// Serialises appends to and cuts of the org's chain across instances for the rest of the transaction (PostgreSQL
    /// advisory lock; SQLite has one writer anyway).
    /// </summary>
    public Task LockChainAsync(DbConnection c, DbTransaction tx, string orgId) => db.Dialect == Dialect.Postgres
        ? c.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtext(@org))", new { org = orgId }, tx)
        : Task.CompletedTask;

    /// <summary>The hash the next event links to: the newest event's, else the latest retention cut's head, else null.</summary>
    public static async Task<string?> ChainHeadHashAsync(DbConnection c, DbTransaction tx, string orgId) =>
        await c.ExecuteScalarAsync<string?>(
            "SELECT hash FROM audit_events WHERE org_id = @org ORDER BY seq DESC LIMIT 1", new { org = orgId }, tx)
        ?? await c.ExecuteScalarAsync<string?>(
            "SELECT head_hash FROM audit_seals WHERE org_id = @org AND kind = 'cut' ORDER BY through_seq DESC LIMIT 1", new { org = orgId }, tx);

    public static Task<int> InsertEventAsync(DbConnection c, DbTransaction tx, AuditRow row) => c.ExecuteAsync("""
        INSERT INTO audit_events (org_id, id, ts, event, actor_id, user_id, email, session_id, ip, user_agent, outcome, details, prev_hash, hash, mac,
          format, salts, redacted)
        VALUES (@OrgId, @Id, @Ts, @Event, @ActorId, @UserId, @Email, @SessionId, @Ip, @UserAgent, @Outcome, @Details, @PrevHash, @Hash, @Mac,
          @Format, @Salts, @Redacted)
        """, row, tx);

    /// <summary>
    /// The org's events that may name a person: as subject or actor, by email, or inside details (ids and normalised
    /// emails are distinctive strings, so a substring match finds them), oldest first.
    /// </summary>
    public static async Task<List<AuditRow>> EventsNamingAsync(DbConnection c, DbTransaction tx, string orgId, string userId, string? email) =>
        (await c.QueryAsync<AuditRow>(
            "SELECT * FROM audit_events WHERE org_id = @orgId AND (user_id = @userId OR actor_id = @userId OR details LIKE @idPattern ESCAPE '\\'"
            + (email is null ? "" : " OR email = @email OR details LIKE @emailPattern ESCAPE '\\' OR details LIKE @emailRaw ESCAPE '\\'") + ") ORDER BY seq",
            new
            {
                orgId, userId, email, idPattern = SqlLike.AnywhereInJson(userId),
                emailPattern = email is null ? null : SqlLike.AnywhereInJson(email), emailRaw = email is null ? null : SqlLike.Anywhere(email),
            }, tx)).ToList();

    /// <summary>Writes an erasure's redaction of one event: its personal columns, salts and commitments (never its hash or links).</summary>
    public static Task<int> UpdateRedactedAsync(DbConnection c, DbTransaction tx, AuditRow r) => c.ExecuteAsync("""
        UPDATE audit_events SET actor_id = @ActorId, user_id = @UserId, email = @Email, session_id = @SessionId, ip = @Ip,
          user_agent = @UserAgent, details = @Details, salts = @Salts, redacted = @Redacted
        WHERE org_id = @OrgId AND seq = @Seq
        """, r, tx);


    /// <summary>A page of the org's events matching the filters (null: any), after or before <paramref name="cursor"/>.</summary>
    public Task<List<AuditRow>> QueryAsync(string orgId, string? ev, string? outcome, string? userId, string? sessionId, DateTimeOffset? from,
        DateTimeOffset? to, long? cursor, int take, bool newestFirst, CancellationToken ct, string? actorId = null, long? after = null) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            var sql = "SELECT * FROM audit_events WHERE org_id = @orgId"
                + (ev is null ? "" : " AND event = @ev")
                + (outcome is null ? "" : " AND outcome = @outcome")
                + (userId is null ? "" : " AND user_id = @userId")
                + (sessionId is null ? "" : " AND session_id = @sessionId")
                + (actorId is null ? "" : " AND actor_id = @actorId")
                + (after is null ? "" : " AND seq > @after")
                + (from is null ? "" : " AND ts >= @fromMs")
                + (to is null ? "" : " AND ts < @toMs")
                + (cursor is null ? "" : newestFirst ? " AND seq < @cursor" : " AND seq > @cursor")
                + (newestFirst ? " ORDER BY seq DESC" : " ORDER BY seq") + " LIMIT @take";
            return (await c.QueryAsync<AuditRow>(sql, new
            {
                orgId, ev, outcome, userId, sessionId, actorId, after, fromMs = from?.ToUnixTimeMilliseconds(), toMs = to?.ToUnixTimeMilliseconds(), cursor, take,
            }, tx)).ToList();
        }, ct);

    /// <summary>How many of the org's events of each of <paramref name="events"/> fell in each hour since <paramref name="since"/> (unix ms; hour = ts / 3 600 000).</summary>
    public Task<List<(long Hour, string Event, long Count)>> HourlyCountsAsync(string orgId, string[] events, long since, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => (await c.QueryAsync<(long Hour, string Event, long Count)>($"""
            SELECT ts / 3600000 AS bucket, event, COUNT(*) AS n FROM audit_events
            WHERE org_id = @orgId AND ts >= @since AND event IN ({string.Join(", ", events.Select((_, i) => $"@e{i}"))})
            GROUP BY ts / 3600000, event
            """, Parameters(orgId, since, events), tx)).ToList(), ct);

    private static DynamicParameters Parameters(string orgId, long since, string[] events)
    {
        var p = new DynamicParameters(new { orgId, since });
        for (var i = 0; i < events.Length; i++)
        {
            p.Add($"e{i}", events[i]);
        }

        return p;
    }

    /// <summary>Every event of the org, oldest first.</summary>
    public Task<List<AuditRow>> AllEventsAsync(string orgId, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
            (await c.QueryAsync<AuditRow>("SELECT * FROM audit_events WHERE org_id = @orgId ORDER BY seq", new { orgId }, tx)).ToList(), ct);

    public static Task<(long Seq, string Hash)?> NewestEventAsync(DbConnection c, DbTransaction tx, string orgId) =>
        c.QuerySingleOrDefaultAsync<(long Seq, string Hash)?>(
            "SELECT seq, hash FROM audit_events WHERE org_id = @orgId ORDER BY seq DESC LIMIT 1", new { orgId }, tx);

    public static Task<long> CountEventsThroughAsync(DbConnection c, DbTransaction tx, string orgId, long through) =>
        c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM audit_events WHERE org_id = @orgId AND seq <= @through", new { orgId, through }, tx);

    /// <summary>The newest event older than <paramref name="cutoffMs"/>, null when none.</summary>
    public static Task<long?> LastSeqBeforeAsync(DbConnection c, DbTransaction tx, string orgId, long cutoffMs) =>
        c.ExecuteScalarAsync<long?>("SELECT MAX(seq) FROM audit_events WHERE org_id = @orgId AND ts < @cutoffMs", new { orgId, cutoffMs }, tx);

    public static async Task<List<AuditRow>> EventsThroughAsync(DbConnection c, DbTransaction tx, string orgId, long through) =>
        (await c.QueryAsync<AuditRow>("SELECT * FROM audit_events WHERE org_id = @orgId AND seq <= @through ORDER BY seq", new { orgId, through }, tx)).ToList();

    public static Task<int> DeleteEventsThroughAsync(DbConnection c, DbTransaction tx, string orgId, long through) =>
        c.ExecuteAsync("DELETE FROM audit_events WHERE org_id = @orgId AND seq <= @through", new { orgId, through }, tx);

    /// <summary>Sets the MAC of an event that has none (the one-time upgrade of unkeyed chains).</summary>
    public static Task SetMissingMacAsync(DbConnection c, DbTransaction tx, string orgId, long seq, string mac) =>
        c.ExecuteAsync("UPDATE audit_events SET mac = @mac WHERE org_id = @orgId AND seq = @seq AND mac IS NULL", new { mac, orgId, seq }, tx);

    public Task<List<AuditSealRow>> SealsAsync(string orgId, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => (await c.QueryAsync<AuditSealRow>(
            "SELECT * FROM audit_seals WHERE org_id = @orgId ORDER BY through_seq, seq", new { orgId }, tx)).ToList(), ct);

    public static Task<AuditSealRow?> LatestCutAsync(DbConnection c, DbTransaction tx, string orgId) =>
        c.QuerySingleOrDefaultAsync<AuditSealRow>(
            "SELECT * FROM audit_seals WHERE org_id = @orgId AND kind = 'cut' ORDER BY through_seq DESC, seq DESC LIMIT 1", new { orgId }, tx);

    public static Task<long?> LatestCheckpointSeqAsync(DbConnection c, DbTransaction tx, string orgId) =>
        c.ExecuteScalarAsync<long?>("SELECT MAX(through_seq) FROM audit_seals WHERE org_id = @orgId AND kind = 'checkpoint'", new { orgId }, tx);

    public static Task InsertSealAsync(DbConnection c, DbTransaction tx, AuditSealRow r) => c.ExecuteAsync("""
        INSERT INTO audit_seals (org_id, kind, through_seq, head_hash, total, jws, created_at)
        VALUES (@OrgId, @Kind, @ThroughSeq, @HeadHash, @Total, @Jws, @CreatedAt)
        """, r, tx);

    /// <summary>Drops checkpoints older than <paramref name="through"/> written before <paramref name="before"/>.</summary>
    public static Task<int> DeleteOldCheckpointsAsync(DbConnection c, DbTransaction tx, string orgId, long through, long before) =>
        c.ExecuteAsync("DELETE FROM audit_seals WHERE org_id = @orgId AND kind = 'checkpoint' AND through_seq < @through AND created_at < @before",
            new { orgId, through, before }, tx);

    /// <summary>Drops every seal a new retention cut through <paramref name="through"/> supersedes.</summary>
    public static Task DeleteSealsBeforeAsync(DbConnection c, DbTransaction tx, string orgId, long through) =>
        c.ExecuteAsync("DELETE FROM audit_seals WHERE org_id = @orgId AND through_seq < @through", new { orgId, through }, tx);

    /// <summary>Whether the one-time MAC upgrade of unkeyed chains is still pending (migration 11's marker).</summary>
    public async Task<bool> MacBackfillPendingAsync(CancellationToken ct) =>
        await db.GlobalAsync((c, tx) => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM audit_mac_backfill", transaction: tx), ct) > 0;

    public Task ClearMacBackfillAsync(CancellationToken ct) =>
        db.GlobalAsync((c, tx) => c.ExecuteAsync("DELETE FROM audit_mac_backfill", transaction: tx), ct);
}
