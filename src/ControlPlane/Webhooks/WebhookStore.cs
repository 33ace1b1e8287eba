using System.Data.Common;
using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Webhooks;

internal sealed class WebhookRow
{
    public string OrgId { get; set; } = "";
    public string Id { get; set; } = "";
    public string Url { get; set; } = "";
    /// <summary>JSON array of event names, or <c>["*"]</c>.</summary>
    public string Events { get; set; } = "[]";
    public long Enabled { get; set; }
    public string? Description { get; set; }
    public string SealedSecret { get; set; } = "";
    public string? SealedPreviousSecret { get; set; }
    public long? PreviousValidUntil { get; set; }
    public string? CreatedBy { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
}

internal sealed class WebhookDeliveryRow
{
    public long Seq { get; set; }
    public string OrgId { get; set; } = "";
    public string Id { get; set; } = "";
    public string WebhookId { get; set; } = "";
    public string EventId { get; set; } = "";
    public string Event { get; set; } = "";
    public string Payload { get; set; } = "";
    public string State { get; set; } = WebhookDeliveryStates.Pending;
    public long Attempts { get; set; }
    public long CreatedAt { get; set; }
    public long NextAttemptAt { get; set; }
    public long LeaseUntil { get; set; }
    public long? LastAttemptAt { get; set; }
    public long? LastStatus { get; set; }
    public long? LastDurationMs { get; set; }
    public string? LastError { get; set; }
    public long? DeliveredAt { get; set; }
}

/// <summary>A due delivery the worker has leased, with what sending it needs.</summary>
internal sealed class ClaimedDelivery
{
    public string OrgId { get; set; } = "";
    public string Id { get; set; } = "";
    public string WebhookId { get; set; } = "";
    public string EventId { get; set; } = "";
    public string Payload { get; set; } = "";
    public long Attempts { get; set; }
    public long CreatedAt { get; set; }
    public string Url { get; set; } = "";
    public string SealedSecret { get; set; } = "";
    public string? SealedPreviousSecret { get; set; }
    public long? PreviousValidUntil { get; set; }
}

internal static class WebhookDeliveryStates
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    /// <summary>Retries ran out (<c>Webhooks:RetryFor</c>): kept for the log and manual redelivery.</summary>
    public const string Dead = "dead";
}

/// <summary>
/// <c>webhooks</c> and the outbox <c>webhook_deliveries</c>, both org-scoped. Methods taking a connection run inside the
/// caller's org transaction (the outbox rows go in with the audit event that causes them). The claim crosses orgs:
/// on PostgreSQL through the owner-run <c>authio_webhook_claim</c> (<c>FOR UPDATE SKIP LOCKED</c>), on SQLite with an
/// <c>UPDATE … RETURNING</c> under the database's single writer.
/// </summary>
internal sealed class WebhookStore(Db db)
{
    public Task<List<WebhookRow>> ListAsync(string orgId, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => (await c.QueryAsync<WebhookRow>(
            "SELECT * FROM webhooks WHERE org_id = @orgId ORDER BY created_at, id", new { orgId }, tx)).ToList(), ct);

    public Task<WebhookRow?> GetAsync(string orgId, string id, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.QuerySingleOrDefaultAsync<WebhookRow?>(
            "SELECT * FROM webhooks WHERE org_id = @orgId AND id = @id", new { orgId, id }, tx), ct);

    public static Task<long> CountAsync(DbConnection c, DbTransaction tx, string orgId) =>
        c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM webhooks WHERE org_id = @orgId", new { orgId }, tx);

    public static Task InsertAsync(DbConnection c, DbTransaction tx, WebhookRow r) => c.ExecuteAsync("""
        INSERT INTO webhooks (org_id, id, url, events, enabled, description, sealed_secret, sealed_previous_secret,
          previous_valid_until, created_by, created_at, updated_at)
        VALUES (@OrgId, @Id, @Url, @Events, @Enabled, @Description, @SealedSecret, @SealedPreviousSecret,
          @PreviousValidUntil, @CreatedBy, @CreatedAt, @UpdatedAt)
        """, r, tx);

    public Task<bool> UpdateAsync(WebhookRow r, CancellationToken ct) =>
        db.InOrgAsync(r.OrgId, async (c, tx) => await c.ExecuteAsync("""
            UPDATE webhooks SET url = @Url, events = @Events, enabled = @Enabled, description = @Description, updated_at = @UpdatedAt
            WHERE org_id = @OrgId AND id = @Id
            """, r, tx) == 1, ct);

    public Task<bool> SetSecretsAsync(string orgId, string id, string sealedSecret, string? sealedPrevious, long? previousValidUntil, long now,
        CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => await c.ExecuteAsync("""
            UPDATE webhooks SET sealed_secret = @sealedSecret, sealed_previous_secret = @sealedPrevious,
              previous_valid_until = @previousValidUntil, updated_at = @now
            WHERE org_id = @orgId AND id = @id
            """, new { orgId, id, sealedSecret, sealedPrevious, previousValidUntil, now }, tx) == 1, ct);

    /// <summary>Deletes the webhook and its outbox rows (pending deliveries included: nobody will receive them).</summary>
    public Task<bool> DeleteAsync(string orgId, string id, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            await c.ExecuteAsync("DELETE FROM webhook_deliveries WHERE org_id = @orgId AND webhook_id = @id", new { orgId, id }, tx);
            return await c.ExecuteAsync("DELETE FROM webhooks WHERE org_id = @orgId AND id = @id", new { orgId, id }, tx) == 1;
        }, ct);

    /// <summary>The org's enabled webhooks (id and event filter), inside the audit append's transaction.</summary>
    public static async Task<List<(string Id, string Events)>> EnabledAsync(DbConnection c, DbTransaction tx, string orgId) =>
        (await c.QueryAsync<(string, string)>("SELECT id, events FROM webhooks WHERE org_id = @orgId AND enabled = 1", new { orgId }, tx)).ToList();

    public static Task<int> InsertDeliveryAsync(DbConnection c, DbTransaction tx, WebhookDeliveryRow r) => c.ExecuteAsync("""
        INSERT INTO webhook_deliveries (org_id, id, webhook_id, event_id, event, payload, state, attempts, created_at, next_attempt_at, lease_until)
        VALUES (@OrgId, @Id, @WebhookId, @EventId, @Event, @Payload, @State, 0, @CreatedAt, @NextAttemptAt, 0)
        """, r, tx);

    public Task<int> InsertDeliveryAsync(WebhookDeliveryRow r, CancellationToken ct) =>
        db.InOrgAsync(r.OrgId, (c, tx) => InsertDeliveryAsync(c, tx, r), ct);

    /// <summary>The webhook's deliveries, newest first, before <paramref name="beforeSeq"/> when given.</summary>
    public Task<List<WebhookDeliveryRow>> DeliveriesAsync(string orgId, string webhookId, long? beforeSeq, int take, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => (await c.QueryAsync<WebhookDeliveryRow>(
            "SELECT * FROM webhook_deliveries WHERE org_id = @orgId AND webhook_id = @webhookId"
            + (beforeSeq is null ? "" : " AND seq < @beforeSeq") + " ORDER BY seq DESC LIMIT @take",
            new { orgId, webhookId, beforeSeq, take }, tx)).ToList(), ct);

    public Task<WebhookDeliveryRow?> DeliveryAsync(string orgId, string webhookId, string id, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.QuerySingleOrDefaultAsync<WebhookDeliveryRow?>(
            "SELECT * FROM webhook_deliveries WHERE org_id = @orgId AND webhook_id = @webhookId AND id = @id", new { orgId, webhookId, id }, tx), ct);

    /// <summary>
    /// Leases up to <paramref name="limit"/> due deliveries of enabled webhooks (at most <paramref name="perEndpoint"/>
    /// per webhook, none of <paramref name="skip"/>) until <paramref name="leaseUntil"/>, oldest due first. A lease that
    /// runs out (the instance died) makes the row due again.
    /// </summary>
    public async Task<List<ClaimedDelivery>> ClaimAsync(long now, long leaseUntil, int limit, int perEndpoint, string[] skip, CancellationToken ct)
    {
        if (db.Dialect == Dialect.Postgres)
        {
            return await db.GlobalAsync(async (c, tx) => (await c.QueryAsync<ClaimedDelivery>(
                "SELECT * FROM authio_webhook_claim(@now, @leaseUntil, @limit, @perEndpoint, @skip)",
                new { now, leaseUntil, limit = (long)limit, perEndpoint = (long)perEndpoint, skip }, tx)).ToList(), ct);
        }

        return await db.GlobalAsync(async (c, tx) =>
        {
            // Write first: the transaction holds SQLite's write lock from its first statement, so no other writer slips in.
            var seqs = (await c.QueryAsync<long>("""
                UPDATE webhook_deliveries SET lease_until = @leaseUntil WHERE seq IN (
                  SELECT r.seq FROM (
                    SELECT d.seq, ROW_NUMBER() OVER (PARTITION BY d.webhook_id ORDER BY d.seq) AS rn FROM (
                      SELECT d.seq, d.webhook_id FROM webhook_deliveries d
                      JOIN webhooks w ON w.org_id = d.org_id AND w.id = d.webhook_id AND w.enabled = 1
                      WHERE d.state = 'pending' AND d.next_attempt_at <= @now AND d.lease_until <= @now AND d.webhook_id NOT IN @skip
                      ORDER BY d.next_attempt_at, d.seq LIMIT @scan) d) r
                  WHERE r.rn <= @perEndpoint ORDER BY r.seq LIMIT @limit)
                RETURNING seq
                """, new { now, leaseUntil, limit, perEndpoint, skip, scan = limit * 4 }, tx)).ToList();
            if (seqs.Count == 0)
            {
                return [];
            }

            return (await c.QueryAsync<ClaimedDelivery>("""
                SELECT d.org_id, d.id, d.webhook_id, d.event_id, d.payload, d.attempts, d.created_at,
                  w.url, w.sealed_secret, w.sealed_previous_secret, w.previous_valid_until
                FROM webhook_deliveries d JOIN webhooks w ON w.org_id = d.org_id AND w.id = d.webhook_id
                WHERE d.seq IN @seqs ORDER BY d.seq
                """, new { seqs }, tx)).ToList();
        }, ct);
    }

    /// <summary>
    /// Whether any delivery is due and not leased. Outside any transaction (on SQLite every transaction takes the write
    /// lock), so an idle instance's polling never competes with writers.
    /// </summary>
    public async Task<bool> AnyDueAsync(long now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(admin: false, ct);
        return await c.ExecuteScalarAsync<bool>(db.Dialect == Dialect.Postgres
            ? "SELECT authio_webhook_due(@now)"
            : "SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= @now AND lease_until <= @now)",
            new { now });
    }

    /// <summary>Deletes delivered and dead rows of every org created before <paramref name="before"/>; how many.</summary>
    public Task<long> PruneAsync(long before, CancellationToken ct) => db.GlobalAsync(async (c, tx) => db.Dialect == Dialect.Postgres
        ? await c.ExecuteScalarAsync<long>("SELECT authio_webhook_prune(@before)", new { before }, tx)
        : await c.ExecuteAsync("DELETE FROM webhook_deliveries WHERE state <> 'pending' AND created_at < @before", new { before }, tx), ct);

    /// <summary>
    /// Deletes the org's deliveries whose payload names <paramref name="userId"/> (ids are unique tokens, so a substring
    /// match is exact), pending ones included: for erasing a person's data, inside the erasure's org transaction.
    /// </summary>
    public static Task<int> DeleteDeliveriesNamingAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        c.ExecuteAsync("DELETE FROM webhook_deliveries WHERE org_id = @orgId AND payload LIKE @pattern",
            new { orgId, pattern = "%\"" + userId.Replace("%", "", StringComparison.Ordinal) + "\"%" }, tx);

    /// <summary>Gives a leased row back at once (this instance cannot run it now).</summary>
    public Task ReleaseAsync(string orgId, string id, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.ExecuteAsync(
            "UPDATE webhook_deliveries SET lease_until = 0 WHERE org_id = @orgId AND id = @id AND state = 'pending'", new { orgId, id }, tx), ct);

    public Task RecordDeliveredAsync(string orgId, string id, long now, int status, long durationMs, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.ExecuteAsync("""
            UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, lease_until = 0, last_attempt_at = @now,
              last_status = @status, last_duration_ms = @durationMs, last_error = NULL, delivered_at = @now
            WHERE org_id = @orgId AND id = @id AND state = 'pending'
            """, new { orgId, id, now, status = (long)status, durationMs }, tx), ct);

    /// <summary>A failed attempt: the next one at <paramref name="nextAttemptAt"/>, or dead-lettered when <paramref name="dead"/>.</summary>
    public Task RecordFailedAsync(string orgId, string id, long now, int? status, long durationMs, string error, long nextAttemptAt, bool dead,
        CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.ExecuteAsync("""
            UPDATE webhook_deliveries SET state = @state, attempts = attempts + 1, lease_until = 0, last_attempt_at = @now,
              last_status = @status, last_duration_ms = @durationMs, last_error = @error, next_attempt_at = @nextAttemptAt
            WHERE org_id = @orgId AND id = @id AND state = 'pending'
            """, new
        {
            orgId, id, now, status = (long?)status, durationMs, error, nextAttemptAt,
            state = dead ? WebhookDeliveryStates.Dead : WebhookDeliveryStates.Pending,
        }, tx), ct);
}
