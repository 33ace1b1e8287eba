using System.Data.Common;
using System.Text.Json;
using Authio.ControlPlane.Storage;
using Authio.Shared.Sync;
using Dapper;

namespace Authio.ControlPlane.EdgeSync;

/// <summary>One row of <c>edge_changes</c>. Times are unix milliseconds, as everywhere in the store.</summary>
internal sealed class EdgeChangeRow
{
    public long Seq { get; set; }
    public string? OrgId { get; set; }
    public string Type { get; set; } = "";
    public string? Kind { get; set; }
    public string? Value { get; set; }
    public long? NotBefore { get; set; }
    public long ExpiresAt { get; set; }
    public string? Payload { get; set; }
    public long CreatedAt { get; set; }

    /// <summary>The wire form: unix seconds, rounded so the edge never forgets a revocation early.</summary>
    public RevocationRecord ToRevocation() => new(Seq, Kind!, Value!, NotBefore is { } nb ? CeilSeconds(nb) : null, CeilSeconds(ExpiresAt), OrgId);

    public EdgeChange ToChange() => Type switch
    {
        EdgeChangeStore.JwksType => new EdgeChange(Seq, EdgeChangeStore.JwksType, null, JsonDocument.Parse(Payload!).RootElement.Clone()),
        EdgeChangeStore.OrgRateLimitType => new EdgeChange(Seq, EdgeChangeStore.OrgRateLimitType, null, null, new EdgeOrgSettings(OrgId!, Payload)),
        EdgeChangeStore.OrgKeysType => new EdgeChange(Seq, EdgeChangeStore.OrgKeysType, null, null, null,
            new EdgeOrgKeys(Value, JsonDocument.Parse(Payload!).RootElement.Clone())),
        EdgeChangeStore.ApiKeyChangedType => new EdgeChange(Seq, EdgeChangeStore.ApiKeyChangedType, null, null, KeyId: Value),
        _ => new EdgeChange(Seq, EdgeChangeStore.RevocationType, ToRevocation(), null),
    };

    // A user_not_before at 12.5 s must also catch tokens with iat 12 (issued at 12.3 s): round up.
    private static long CeilSeconds(long ms) => ms >= 0 ? (ms + 999) / 1000 : ms / 1000;
}

/// <summary>Which orgs' rows a reader may see: all, or an allow-list (introspection with <c>ControlPlane:ApiKeys:EdgeOrgIds</c>).</summary>
internal sealed record EdgeScope(bool All, string[] Orgs)
{
    public static readonly EdgeScope Everyone = new(true, []);
}

/// <summary>
/// The ordered edge change log (<c>edge_changes</c>, and the <c>revocations</c> rows it mirrors). Every edge-relevant write (a revocation of any kind, a new JWKS document) appends one
/// row with the next global sequence number inside the writer's transaction, and pulses <see cref="Signal"/> after it
/// commits so long polls on this instance answer at once. On PostgreSQL appends are serialised with a transaction-level
/// advisory lock, so sequence numbers become visible in order and a reader never skips a row committed late.
/// </summary>
internal sealed class EdgeChangeStore(Db db, TimeProvider time)
{
    public const string RevocationType = EdgeChangeTypes.Revocation;
    public const string JwksType = EdgeChangeTypes.Jwks;
    public const string OrgRateLimitType = EdgeChangeTypes.OrgRateLimit;
    public const string OrgKeysType = EdgeChangeTypes.OrgKeys;
    public const string ApiKeyChangedType = EdgeChangeTypes.ApiKeyChanged;

    /// <summary>How long an <c>api_key_changed</c> entry is kept: an edge further behind than this takes a snapshot anyway.</summary>
    public static readonly TimeSpan ApiKeyChangeRetention = TimeSpan.FromDays(1);

    /// <summary>The most changes one batch returns.</summary>
    public const int MaxBatch = 1000;

    // Arbitrary constant: appends to the change log, one transaction at a time.
    private const long AppendLockId = 0x4175746564676543;

    private TaskCompletionSource _signal = NewSignal();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when this instance next commits a change (take it before reading, then wait on it).</summary>
    public Task Signal => Volatile.Read(ref _signal).Task;

    private void Pulse() => Interlocked.Exchange(ref _signal, NewSignal()).TrySetResult();

    /// <summary>
    /// Records a revocation: the org-scoped <c>revocations</c> row (kept as before) and its change-log entry. Call inside
    /// the org's transaction. Times in unix milliseconds.
    /// </summary>
    public async Task AppendRevocationAsync(DbConnection c, DbTransaction tx, string orgId, string kind, string value, long? notBefore, long now, long expiresAt)
    {
        await c.ExecuteAsync("""
            INSERT INTO revocations (org_id, kind, value, not_before, created_at, expires_at)
            VALUES (@orgId, @kind, @value, @notBefore, @now, @expiresAt)
            """, new { orgId, kind, value, notBefore, now, expiresAt }, tx);
        await AppendAsync(c, tx, orgId, RevocationType, kind, value, notBefore, expiresAt, null, now);
    }

    /// <summary>
    /// The change-log position of the org's latest revocation of <paramref name="kind"/> <paramref name="value"/> (inside the
    /// org's transaction: RLS shows only its rows); null when none is left (never made, or pruned once it expired).
    /// </summary>
    public static Task<long?> RevocationSequenceAsync(DbConnection c, DbTransaction tx, string orgId, string kind, string value) =>
        c.ExecuteScalarAsync<long?>(
            "SELECT MAX(seq) FROM edge_changes WHERE type = 'revocation' AND org_id = @orgId AND kind = @kind AND value = @value",
            new { orgId, kind, value }, tx);

    /// <summary>A revocation that concerns every org (a signing key): change log only, <c>org_id</c> NULL.</summary>
    public Task AppendGlobalRevocationAsync(DbConnection c, DbTransaction tx, string kind, string value, long now, long expiresAt) =>
        AppendAsync(c, tx, null, RevocationType, kind, value, null, expiresAt, null, now);

    /// <summary>
    /// Appends the published JWKS document <paramref name="current"/> computes, unless it equals the latest one logged.
    /// It is computed under the append lock, so concurrent writers cannot log an older document after a newer one.
    /// </summary>
    public async Task<bool> AppendJwksIfChangedAsync(DbConnection c, DbTransaction tx, Func<Task<string>> current)
    {
        await LockAsync(c, tx);
        var jwksJson = await current();
        var last = await c.QueryFirstOrDefaultAsync<string?>(
            "SELECT payload FROM edge_changes WHERE type = @type ORDER BY seq DESC LIMIT 1", new { type = JwksType }, tx);
        if (last == jwksJson)
        {
            return false;
        }
        // A JWKS document stays the current one until superseded; pruning removes it only then.
        await AppendAsync(c, tx, null, JwksType, null, null, null, long.MaxValue, jwksJson, time.GetUtcNow().ToUnixTimeMilliseconds());
        return true;
    }

    /// <summary>
    /// Appends an <c>org_keys</c> change for every org whose published JWK set (<paramref name="current"/>, computed under
    /// the append lock: org id, or <see cref="LegacyGroup"/> for the keys without an org → JSON) differs from the last one
    /// logged for it. The row is global (org_id NULL, value = the org) so every edge reads it; it stays current until a
    /// later one for the same org supersedes it. Returns the number of changes appended.
    /// </summary>
    public async Task<int> AppendOrgKeysIfChangedAsync(DbConnection c, DbTransaction tx, Func<Task<IReadOnlyDictionary<string, string>>> current,
        bool onlyListed = false)
    {
        await LockAsync(c, tx);
        var now = await current();
        Dictionary<string, string> last;
        if (onlyListed)
        {
            // One org's rotation or revocation reads that org's last change only, not every org's.
            last = new(StringComparer.Ordinal);
            foreach (var group in now.Keys)
            {
                var payload = await c.QueryFirstOrDefaultAsync<string?>(group == LegacyGroup
                        ? "SELECT payload FROM edge_changes WHERE type = @type AND value IS NULL ORDER BY seq DESC LIMIT 1"
                        : "SELECT payload FROM edge_changes WHERE type = @type AND value = @group ORDER BY seq DESC LIMIT 1",
                    new { type = OrgKeysType, group }, tx);
                if (payload is not null)
                {
                    last[group] = payload;
                }
            }
        }
        else
        {
            last = (await c.QueryAsync<(string? Value, string Payload)>("""
                SELECT value, payload FROM edge_changes WHERE type = @type
                  AND seq IN (SELECT MAX(seq) FROM edge_changes WHERE type = @type GROUP BY value)
                """, new { type = OrgKeysType }, tx)).ToDictionary(r => r.Value ?? LegacyGroup, r => r.Payload, StringComparer.Ordinal);
        }
        var appended = 0;
        var at = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (group, json) in now)
        {
            if (last.TryGetValue(group, out var previous) ? previous == json : json == EmptyKeySet)
            {
                continue;
            }

            await AppendAsync(c, tx, null, OrgKeysType, null, group == LegacyGroup ? null : group, null, long.MaxValue, json, at);
            appended++;
        }
        if (onlyListed)
        {
            return appended;
        }
        // A group that lost its last published key (e.g. the legacy keys after retirement) is logged as an empty set.
        foreach (var (group, previous) in last)
        {
            if (now.ContainsKey(group) || previous == EmptyKeySet)
            {
                continue;
            }

            await AppendAsync(c, tx, null, OrgKeysType, null, group == LegacyGroup ? null : group, null, long.MaxValue, EmptyKeySet, at);
            appended++;
        }
        return appended;
    }

    /// <summary>The group name <see cref="AppendOrgKeysIfChangedAsync"/> uses for keys without an org.</summary>
    public const string LegacyGroup = "";

    /// <summary>The JSON of an empty JWK set, as <see cref="AppendOrgKeysIfChangedAsync"/> compares it.</summary>
    public const string EmptyKeySet = "{\"keys\":[]}";

    /// <summary>
    /// Records an org's new rate limit (<paramref name="rateLimit"/> null: cleared). Call inside the org's transaction that
    /// wrote it. Every edge receives it, whatever its org scope; it stays current until a later one for the org supersedes it.
    /// </summary>
    public Task AppendOrgRateLimitAsync(DbConnection c, DbTransaction tx, string orgId, string? rateLimit) =>
        AppendAsync(c, tx, orgId, OrgRateLimitType, null, null, null, long.MaxValue, rateLimit, time.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>
    /// Records that API key <paramref name="keyId"/> changed other than by revocation (a rotation). Call inside the org's
    /// transaction that changed it. Edges of the org drop their cached record of the key.
    /// </summary>
    public Task AppendApiKeyChangedAsync(DbConnection c, DbTransaction tx, string orgId, string keyId, long now) =>
        AppendAsync(c, tx, orgId, ApiKeyChangedType, null, keyId, null, now + (long)ApiKeyChangeRetention.TotalMilliseconds, null, now);

    /// <summary>Every org's current rate limit, for the snapshot (all orgs: limits are not secret and not scoped).</summary>
    public Task<List<EdgeOrgSettings>> OrgRateLimitsAsync(CancellationToken ct) => db.GlobalAsync(async (c, tx) =>
    {
        var sql = db.Dialect == Dialect.Postgres
            ? "SELECT org_id, rate_limit FROM authio_org_rate_limits()"
            : "SELECT org_id, rate_limit FROM org_rate_limits ORDER BY org_id";
        return (await c.QueryAsync<(string OrgId, string RateLimit)>(sql, transaction: tx)).Select(r => new EdgeOrgSettings(r.OrgId, r.RateLimit)).ToList();
    }, ct);

    private async Task AppendAsync(DbConnection c, DbTransaction tx, string? orgId, string type, string? kind, string? value, long? notBefore,
        long expiresAt, string? payload, long now)
    {
        await LockAsync(c, tx);
        // PostgreSQL: the next number is taken under the append lock, not from the column's sequence, whose numbers a
        // rolled-back append would burn: the log stays gap-free with any number of instances writing. (SQLite's
        // AUTOINCREMENT rolls back with the transaction, and it has one writer.)
        await c.ExecuteAsync(db.Dialect == Dialect.Postgres
            ? """
              INSERT INTO edge_changes (seq, org_id, type, kind, value, not_before, expires_at, payload, created_at)
              VALUES (authio_edge_last_seq() + 1, @orgId, @type, @kind, @value, @notBefore, @expiresAt, @payload, @now)
              """
            : """
              INSERT INTO edge_changes (org_id, type, kind, value, not_before, expires_at, payload, created_at)
              VALUES (@orgId, @type, @kind, @value, @notBefore, @expiresAt, @payload, @now)
              """, new { orgId, type, kind, value, notBefore, expiresAt, payload, now }, tx);
        db.AfterCommit(tx, Pulse);
    }

    /// <summary>
    /// Takes the append lock for the rest of the transaction. Appending takes it anyway; transactions that lock rows and
    /// then append more than once (ending several sessions) take it first, so every writer locks in the same order.
    /// PostgreSQL: an advisory lock held to commit. SQLite: a no-op write, so the transaction holds the database's write
    /// lock before it reads (a read-then-write transaction could otherwise fail to upgrade under a concurrent writer).
    /// </summary>
    public Task LockAsync(DbConnection c, DbTransaction tx) => db.Dialect == Dialect.Postgres
        ? c.ExecuteAsync("SELECT pg_advisory_xact_lock(@id)", new { id = AppendLockId }, tx)
        : c.ExecuteAsync("UPDATE edge_sync_state SET pruned_through = pruned_through WHERE id = 1", transaction: tx);

    /// <summary>The highest sequence number written so far (0 when none), across all orgs, pruned or not.</summary>
    public Task<long> LastSequenceAsync(CancellationToken ct) => db.GlobalAsync((c, tx) => c.ExecuteScalarAsync<long>(
        db.Dialect == Dialect.Postgres ? "SELECT authio_edge_last_seq()" : "SELECT MAX((SELECT COALESCE(MAX(seq), 0) FROM edge_changes), (SELECT pruned_through FROM edge_sync_state WHERE id = 1))", transaction: tx), ct);

    /// <summary>The highest sequence number ever pruned: an edge whose position is below it must take a snapshot.</summary>
    public Task<long> PrunedThroughAsync(CancellationToken ct) => db.GlobalAsync((c, tx) =>
        c.ExecuteScalarAsync<long>("SELECT pruned_through FROM edge_sync_state WHERE id = 1", transaction: tx), ct);

    /// <summary>Changes after <paramref name="after"/> visible to <paramref name="scope"/> (org rate limits: always), ascending, at most <see cref="MaxBatch"/>.</summary>
    public Task<List<EdgeChangeRow>> ChangesAfterAsync(long after, EdgeScope scope, CancellationToken ct) => db.GlobalAsync(async (c, tx) =>
    {
        var sql = db.Dialect == Dialect.Postgres
            ? "SELECT * FROM authio_edge_changes(@after, @limit, @all, @orgs)"
            : "SELECT * FROM edge_changes WHERE seq > @after AND (org_id IS NULL OR type = 'org_rate_limit' OR @all = 1 OR org_id IN @orgs) ORDER BY seq LIMIT @limit";
        return (await c.QueryAsync<EdgeChangeRow>(sql, new { after, limit = (long)MaxBatch, all = scope.All, orgs = scope.Orgs }, tx)).ToList();
    }, ct);

    /// <summary>Revocations with seq ≤ <paramref name="through"/> that have not expired, visible to <paramref name="scope"/>.</summary>
    public Task<List<EdgeChangeRow>> LiveRevocationsAsync(long through, EdgeScope scope, CancellationToken ct) => db.GlobalAsync(async (c, tx) =>
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var sql = db.Dialect == Dialect.Postgres
            ? "SELECT * FROM authio_edge_live_revocations(@through, @now, @all, @orgs)"
            : """
              SELECT * FROM edge_changes WHERE type = 'revocation' AND seq <= @through AND expires_at > @now
                AND (org_id IS NULL OR @all = 1 OR org_id IN @orgs) ORDER BY seq
              """;
        return (await c.QueryAsync<EdgeChangeRow>(sql, new { through, now, all = scope.All, orgs = scope.Orgs }, tx)).ToList();
    }, ct);

    /// <summary>
    /// Removes expired revocations (change log and <c>revocations</c>) and API-key changes, superseded JWKS documents and
    /// superseded org rate limits; raises
    /// <c>pruned_through</c> to the highest sequence removed. Returns the number of change-log rows removed.
    /// </summary>
    public Task<long> PruneAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (db.Dialect == Dialect.Postgres)
        {
            return db.GlobalAsync((c, tx) => c.ExecuteScalarAsync<long>("SELECT authio_edge_prune(@now)", new { now }, tx), ct);
        }

        return db.GlobalAsync(async (c, tx) =>
        {
            var lastJwks = await c.ExecuteScalarAsync<long?>("SELECT MAX(seq) FROM edge_changes WHERE type = 'jwks'", transaction: tx) ?? 0;
            const string doomed = """
                (type IN ('revocation', 'api_key_changed') AND expires_at <= @now) OR (type = 'jwks' AND seq < @lastJwks)
                OR (type = 'jwks' AND EXISTS (SELECT 1 FROM edge_changes n WHERE n.type = 'org_keys' AND n.value IS NULL AND n.seq > edge_changes.seq))
                OR (type = 'org_keys' AND EXISTS (SELECT 1 FROM edge_changes n WHERE n.type = 'org_keys' AND n.value IS edge_changes.value AND n.seq > edge_changes.seq))
                OR (type = 'org_rate_limit' AND EXISTS (SELECT 1 FROM edge_changes n WHERE n.type = 'org_rate_limit' AND n.org_id = edge_changes.org_id AND n.seq > edge_changes.seq))
                """;
            var (count, max) = await c.QuerySingleAsync<(long, long?)>($"SELECT COUNT(*), MAX(seq) FROM edge_changes WHERE {doomed}", new { now, lastJwks }, tx);
            if (count > 0)
            {
                await c.ExecuteAsync($"DELETE FROM edge_changes WHERE {doomed}", new { now, lastJwks }, tx);
                await c.ExecuteAsync("UPDATE edge_sync_state SET pruned_through = MAX(pruned_through, @max) WHERE id = 1", new { max }, tx);
            }
            await c.ExecuteAsync("DELETE FROM revocations WHERE expires_at <= @now", new { now }, tx);
            return count;
        }, ct);
    }
}
