using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Orgs;

internal sealed class OrgRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public long? AccessTtlSeconds { get; set; }
    public long? IdleTimeoutSeconds { get; set; }
    public long? AuditRetentionDays { get; set; }
    public long CreatedAt { get; set; }
    /// <summary><c>off</c>, <c>optional</c>, <c>required_for_mod</c>, <c>required</c>; null = the default (<c>optional</c>).</summary>
    public string? MfaPolicy { get; set; }
}

internal sealed class OrgListRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public long CreatedAt { get; set; }
    public long IsOperator { get; set; }
}

/// <summary>The tenant registry. Orgs are the root of isolation, so this table itself is not org-filtered by RLS.</summary>
internal sealed class OrgStore(Db db, ControlPlaneOptions options)
{
    public Task<OrgRow?> GetAsync(string id, CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => c.QuerySingleOrDefaultAsync<OrgRow>("SELECT * FROM orgs WHERE id = @id", new { id }, tx), ct);

    public Task<List<string>> AllIdsAsync(CancellationToken ct = default) =>
        db.GlobalAsync(async (c, tx) => (await c.QueryAsync<string>("SELECT id FROM orgs", transaction: tx)).ToList(), ct);

    /// <summary>One page of every org, oldest first (by created, then id), strictly after the cursor's position.</summary>
    public Task<List<OrgListRow>> PageAsync((long CreatedAt, string Id)? after, int limit, CancellationToken ct = default) =>
        db.GlobalAsync(async (c, tx) => (await c.QueryAsync<OrgListRow>(
            "SELECT id, name, created_at, is_operator FROM orgs"
            + (after is null ? "" : " WHERE created_at > @createdAt OR (created_at = @createdAt AND id > @id)")
            + " ORDER BY created_at, id LIMIT @limit",
            new { createdAt = after?.CreatedAt ?? 0, id = after?.Id ?? "", limit }, tx)).ToList(), ct);

    /// <summary>The operator org (<c>is_operator</c>), null before bootstrap.</summary>
    public Task<string?> OperatorOrgIdAsync(CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => c.QuerySingleOrDefaultAsync<string?>(
            "SELECT id FROM orgs WHERE is_operator = 1 ORDER BY created_at, id LIMIT 1", transaction: tx), ct);

    /// <summary>Makes <paramref name="id"/> the operator org unless one exists (bootstrap).</summary>
    public Task MarkOperatorIfNoneAsync(string id, CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => c.ExecuteAsync(
            "UPDATE orgs SET is_operator = 1 WHERE id = @id AND NOT EXISTS (SELECT 1 FROM orgs o WHERE o.is_operator = 1)", new { id }, tx), ct);

    public static Task InsertAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, OrgRow org) =>
        c.ExecuteAsync("INSERT INTO orgs (id, name, created_at) VALUES (@Id, @Name, @CreatedAt)", org, tx);

    public Task UpdateSettingsAsync(string id, long? accessTtlSeconds, long? idleTimeoutSeconds, long? auditRetentionDays, CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => c.ExecuteAsync("""
            UPDATE orgs SET access_ttl_seconds = COALESCE(@accessTtlSeconds, access_ttl_seconds),
              idle_timeout_seconds = COALESCE(@idleTimeoutSeconds, idle_timeout_seconds),
              audit_retention_days = COALESCE(@auditRetentionDays, audit_retention_days)
            WHERE id = @id
            """, new { id, accessTtlSeconds, idleTimeoutSeconds, auditRetentionDays }, tx), ct);

    public Task SetMfaPolicyAsync(string id, string policy, CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => c.ExecuteAsync("UPDATE orgs SET mfa_policy = @policy WHERE id = @id", new { id, policy }, tx), ct);

    /// <summary>The org's edge rate limit as stored (normalised text), null when it has none.</summary>
    public static Task<string?> RateLimitAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string orgId) =>
        c.QuerySingleOrDefaultAsync<string?>("SELECT rate_limit FROM org_rate_limits WHERE org_id = @orgId", new { orgId }, tx);

    /// <summary>Stores the org's edge rate limit; null deletes it.</summary>
    public static Task SetRateLimitAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string orgId, string? normalized, string by, long now) =>
        normalized is null
            ? c.ExecuteAsync("DELETE FROM org_rate_limits WHERE org_id = @orgId", new { orgId }, tx)
            : c.ExecuteAsync("""
                INSERT INTO org_rate_limits (org_id, rate_limit, updated_at, updated_by) VALUES (@orgId, @normalized, @now, @by)
                ON CONFLICT (org_id) DO UPDATE SET rate_limit = excluded.rate_limit, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """, new { orgId, normalized, now, by }, tx);

    // Stored values are clamped into today's bounds on every read: a value written before the bounds existed (or
    // under a larger configured maximum) can never overflow a TimeSpan, wrap an int or exceed what the keys assume.

    public long MaxAccessTtlSeconds => (long)options.Tokens.MaxAccessTokenTtl.TotalSeconds;

    /// <summary>An idle timeout beyond the refresh token's own lifetime would never be reached.</summary>
    public long MaxIdleTimeoutSeconds => (long)options.Tokens.RefreshTokenTtl.TotalSeconds;

    public TimeSpan AccessTtl(OrgRow? org) =>
        org?.AccessTtlSeconds is { } s ? TimeSpan.FromSeconds(Math.Clamp(s, TokenOptions.MinTtlSeconds, MaxAccessTtlSeconds)) : options.Tokens.AccessTokenTtl;

    public TimeSpan IdleTimeout(OrgRow? org) =>
        org?.IdleTimeoutSeconds is { } s ? TimeSpan.FromSeconds(Math.Clamp(s, TokenOptions.MinTtlSeconds, MaxIdleTimeoutSeconds)) : options.Sessions.IdleTimeout;

    public int RetentionDays(OrgRow? org) => org?.AuditRetentionDays is { } d
        ? (int)Math.Clamp(d, AuditOptions.MinRetentionDays, AuditOptions.MaxRetentionDays)
        : options.Audit.RetentionDays;
}
