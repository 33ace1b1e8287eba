using System.Data.Common;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.DataSubjects;

/// <summary>An export job: its NDJSON, sealed, until downloaded once or expired.</summary>
internal sealed class DataExportRow
{
    public string OrgId { get; set; } = "";
    public string Id { get; set; } = "";
    public string UserId { get; set; } = "";
    public string? RequestedBy { get; set; }
    public string State { get; set; } = "";
    public string? SealedContent { get; set; }
    public long Bytes { get; set; }
    public long Records { get; set; }
    public long CreatedAt { get; set; }
    public long ExpiresAt { get; set; }
    public long? DownloadedAt { get; set; }
    public string? DownloadedBy { get; set; }
}

internal static class DataExportStates
{
    public const string Ready = "ready";
    public const string Downloaded = "downloaded";
    public const string Expired = "expired";
}

/// <summary>
/// Every table a person's data lives in, read for an export and cleared for an erasure. Methods taking a connection run
/// inside the caller's org transaction; identities are global and are erased only when no org holds the person any more.
/// </summary>
internal sealed class DataSubjectStore(Db db)
{
    private bool Pg => db.Dialect == Dialect.Postgres;

    // ---- exports ----

    public static Task InsertExportAsync(DbConnection c, DbTransaction tx, DataExportRow r) => c.ExecuteAsync("""
        INSERT INTO data_exports (org_id, id, user_id, requested_by, state, sealed_content, bytes, records, created_at, expires_at)
        VALUES (@OrgId, @Id, @UserId, @RequestedBy, @State, @SealedContent, @Bytes, @Records, @CreatedAt, @ExpiresAt)
        """, r, tx);

    public Task<DataExportRow?> GetExportAsync(string orgId, string userId, string id, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.QuerySingleOrDefaultAsync<DataExportRow>(
            "SELECT * FROM data_exports WHERE org_id = @orgId AND user_id = @userId AND id = @id", new { orgId, userId, id }, tx), ct);

    /// <summary>
    /// Hands out the export's content once: the row is claimed (state ready → downloaded, content dropped) by a
    /// conditional update, so of two concurrent downloads only one gets it. Null when there is no such export; otherwise
    /// its state and, for the one download that claimed it, its sealed content.
    /// </summary>
    public Task<(string State, string? SealedContent)?> TakeExportAsync(string orgId, string userId, string id, string by, long now, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            var row = await c.QuerySingleOrDefaultAsync<DataExportRow>(
                "SELECT * FROM data_exports WHERE org_id = @orgId AND user_id = @userId AND id = @id", new { orgId, userId, id }, tx);
            if (row is null)
            {
                return ((string, string?)?)null;
            }

            if (row.State != DataExportStates.Ready || row.ExpiresAt <= now)
            {
                return (row.ExpiresAt <= now ? DataExportStates.Expired : row.State, null);
            }

            var claimed = await c.ExecuteAsync("""
                UPDATE data_exports SET state = 'downloaded', sealed_content = NULL, downloaded_at = @now, downloaded_by = @by
                WHERE org_id = @orgId AND id = @id AND state = 'ready'
                """, new { orgId, id, now, by }, tx);
            return claimed == 1 ? (DataExportStates.Ready, row.SealedContent) : (DataExportStates.Downloaded, null);
        }, ct);

    /// <summary>Drops the content of exports past their expiry (the maintenance job); the rows stay as the log of requests.</summary>
    public Task<int> ExpireExportsAsync(long now, CancellationToken ct) =>
        db.GlobalAsync((c, tx) => Pg
            ? c.ExecuteScalarAsync<int>("SELECT authio_expire_data_exports(@now)", new { now }, tx)
            : c.ExecuteAsync("UPDATE data_exports SET state = 'expired', sealed_content = NULL WHERE state = 'ready' AND expires_at <= @now", new { now }, tx), ct);

    // ---- what an export reads ----

    public static Task<ExportedProfile?> ProfileAsync(DbConnection c, DbTransaction tx, string userId) => c.QuerySingleOrDefaultAsync<ExportedProfile>(
        "SELECT id, email, created_at, password_changed_at, locked_until FROM users WHERE id = @userId", new { userId }, tx);

    public static Task<ExportedMembership?> MembershipAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        c.QuerySingleOrDefaultAsync<ExportedMembership>(
            "SELECT org_id, role, active, created_at, deactivated_at FROM memberships WHERE org_id = @orgId AND user_id = @userId", new { orgId, userId }, tx);

    public static async Task<List<ExportedProjectRole>> ProjectRolesAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        (await c.QueryAsync<ExportedProjectRole>(
            "SELECT project_id, role FROM project_roles WHERE org_id = @orgId AND user_id = @userId ORDER BY project_id", new { orgId, userId }, tx)).ToList();

    public static async Task<List<ExportedTeam>> TeamsAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        (await c.QueryAsync<ExportedTeam>("""
            SELECT t.id AS team_id, t.name FROM team_members m JOIN teams t ON t.org_id = m.org_id AND t.id = m.team_id
            WHERE m.org_id = @orgId AND m.user_id = @userId ORDER BY t.name
            """, new { orgId, userId }, tx)).ToList();

    public static async Task<List<SessionRow>> SessionsAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        (await c.QueryAsync<SessionRow>(
            "SELECT * FROM sessions WHERE org_id = @orgId AND user_id = @userId ORDER BY created_at, id", new { orgId, userId }, tx)).ToList();

    public static Task<ExportedTotp?> TotpAsync(DbConnection c, DbTransaction tx, string userId) => c.QuerySingleOrDefaultAsync<ExportedTotp>(
        "SELECT created_at, confirmed_at FROM mfa_totp WHERE user_id = @userId", new { userId }, tx);

    public static Task<(long Total, long Used)> RecoveryCodesAsync(DbConnection c, DbTransaction tx, string userId) =>
        c.QuerySingleAsync<(long Total, long Used)>(
            "SELECT COUNT(*), COUNT(used_at) FROM mfa_recovery_codes WHERE user_id = @userId", new { userId }, tx);

    public static async Task<List<ExportedPasskey>> PasskeysAsync(DbConnection c, DbTransaction tx, string userId) =>
        (await c.QueryAsync<ExportedPasskey>("""
            SELECT id, name, aaguid, transports, backup_eligible, backed_up, created_at, last_used_at
            FROM passkey_credentials WHERE user_id = @userId ORDER BY created_at, id
            """, new { userId }, tx)).ToList();

    public static async Task<List<ExportedApiKey>> ApiKeysAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        (await c.QueryAsync<ExportedApiKey>("""
            SELECT id, name, prefix, scopes, environment, project_id, created_at, expires_at, rotated_at, last_used_at, use_count, revoked_at
            FROM api_keys WHERE org_id = @orgId AND created_by = @userId ORDER BY created_at, id
            """, new { orgId, userId }, tx)).ToList();

    public static async Task<List<ExportedSignIn>> SignInHistoryAsync(DbConnection c, DbTransaction tx, string userId) =>
        (await c.QueryAsync<ExportedSignIn>(
            "SELECT network, device, last_seen, latitude, longitude FROM sign_in_history WHERE user_id = @userId ORDER BY last_seen", new { userId }, tx)).ToList();

    // ---- what an erasure clears ----

    /// <summary>
    /// The org's rows about the person (the caller has ended their sessions and revoked their keys first, in this
    /// transaction): sessions and their refresh tokens, roles, teams, MFA challenges, exports, the membership; and the
    /// person's id where the org's records name them as creator or editor becomes <c>erased</c> (or NULL).
    /// </summary>
    public async Task<OrgErasure> EraseInOrgAsync(DbConnection c, DbTransaction tx, string orgId, string userId, string? email, string pseudonym)
    {
        var p = new { orgId, userId, pseudonym, Erased };
        await c.ExecuteAsync("""
            DELETE FROM refresh_tokens WHERE org_id = @orgId AND session_id IN (SELECT id FROM sessions WHERE org_id = @orgId AND user_id = @userId)
            """, p, tx);
        var sessions = await c.ExecuteAsync("DELETE FROM sessions WHERE org_id = @orgId AND user_id = @userId", p, tx);
        await c.ExecuteAsync("DELETE FROM project_roles WHERE org_id = @orgId AND user_id = @userId", p, tx);
        await c.ExecuteAsync("DELETE FROM team_members WHERE org_id = @orgId AND user_id = @userId", p, tx);
        await c.ExecuteAsync("DELETE FROM mfa_challenges WHERE org_id = @orgId AND user_id = @userId", p, tx);
        var exports = await c.ExecuteAsync("DELETE FROM data_exports WHERE org_id = @orgId AND user_id = @userId", p, tx);
        await c.ExecuteAsync("UPDATE data_exports SET requested_by = NULL WHERE org_id = @orgId AND requested_by = @userId", p, tx);
        await c.ExecuteAsync("UPDATE data_exports SET downloaded_by = NULL WHERE org_id = @orgId AND downloaded_by = @userId", p, tx);
        await c.ExecuteAsync("UPDATE api_keys SET created_by = @Erased WHERE org_id = @orgId AND created_by = @userId", p, tx);
        await c.ExecuteAsync("UPDATE api_keys SET revoked_by = @Erased WHERE org_id = @orgId AND revoked_by = @userId", p, tx);
        await c.ExecuteAsync("UPDATE api_key_scopes SET created_by = NULL WHERE org_id = @orgId AND created_by = @userId", p, tx);
        await c.ExecuteAsync("UPDATE webhooks SET created_by = NULL WHERE org_id = @orgId AND created_by = @userId", p, tx);
        await c.ExecuteAsync("UPDATE org_rate_limits SET updated_by = NULL WHERE org_id = @orgId AND updated_by = @userId", p, tx);
        // A user-wide revocation from an earlier logout-all or role change names the person until it expires; every
        // session has its own sid revocation by now, so the subject is replaced by a value no token carries.
        await c.ExecuteAsync(
            "UPDATE revocations SET value = @pseudonym WHERE org_id = @orgId AND kind = 'user_not_before' AND value = @userId", p, tx);
        if (Pg)
        {
            await c.ExecuteScalarAsync<long>("SELECT authio_pseudonymise_edge_changes(@userId, @pseudonym)", p, tx);
        }
        else
        {
            await c.ExecuteAsync("""
                UPDATE edge_changes SET value = @pseudonym
                WHERE org_id = @orgId AND type = 'revocation' AND kind = 'user_not_before' AND value = @userId
                """, p, tx);
        }

        var deliveries = await c.ExecuteAsync(
            "DELETE FROM webhook_deliveries WHERE org_id = @orgId AND (payload LIKE @idPattern ESCAPE '\\'"
            + (email is null ? "" : " OR payload LIKE @emailPattern ESCAPE '\\' OR payload LIKE @emailRaw ESCAPE '\\'") + ")",
            new
            {
                orgId, idPattern = SqlLike.AnywhereInJson(userId),
                emailPattern = email is null ? null : SqlLike.AnywhereInJson(email), emailRaw = email is null ? null : SqlLike.Anywhere(email),
            }, tx);
        await c.ExecuteAsync("DELETE FROM memberships WHERE org_id = @orgId AND user_id = @userId", p, tx);
        return new OrgErasure(sessions, deliveries, exports);
    }

    /// <summary>
    /// Deletes the person's identity (account, second factors, passkeys, sign-in history) when no org holds them any
    /// more; false (nothing deleted) while another org still does. Runs after <see cref="EraseInOrgAsync"/>, in its transaction.
    /// </summary>
    public async Task<bool> EraseIdentityAsync(DbConnection c, DbTransaction tx, string userId)
    {
        if (Pg)
        {
            return await c.ExecuteScalarAsync<long>("SELECT authio_erase_identity(@userId)", new { userId }, tx) == 1;
        }

        if (await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM memberships WHERE user_id = @userId", new { userId }, tx) > 0)
        {
            return false;
        }

        foreach (var table in (string[])["mfa_recovery_codes", "mfa_totp", "passkey_credentials", "passkey_challenges", "sign_in_history"])
        {
            await c.ExecuteAsync($"DELETE FROM {table} WHERE user_id = @userId", new { userId }, tx);
        }

        return await c.ExecuteAsync("DELETE FROM users WHERE id = @userId", new { userId }, tx) == 1;
    }

    /// <summary>The email's lockout row (keyed by its HMAC), global.</summary>
    public Task ClearLoginFailuresAsync(string emailKey, CancellationToken ct) =>
        db.GlobalAsync((c, tx) => c.ExecuteAsync("DELETE FROM login_failures WHERE email_key = @emailKey", new { emailKey }, tx), ct);

    /// <summary>What stands in for an erased person's id where the org's own records must keep a non-null creator.</summary>
    public const string Erased = "erased";
}

internal sealed record OrgErasure(int Sessions, int WebhookDeliveries, int Exports);

internal sealed class ExportedProfile
{
    public string Id { get; set; } = "";
    public string Email { get; set; } = "";
    public long CreatedAt { get; set; }
    public long PasswordChangedAt { get; set; }
    public long? LockedUntil { get; set; }
}

internal sealed class ExportedMembership
{
    public string OrgId { get; set; } = "";
    public string Role { get; set; } = "";
    public long Active { get; set; }
    public long CreatedAt { get; set; }
    public long? DeactivatedAt { get; set; }
}

internal sealed class ExportedProjectRole
{
    public string ProjectId { get; set; } = "";
    public string Role { get; set; } = "";
}

internal sealed class ExportedTeam
{
    public string TeamId { get; set; } = "";
    public string Name { get; set; } = "";
}

internal sealed class ExportedTotp
{
    public long CreatedAt { get; set; }
    public long? ConfirmedAt { get; set; }
}

internal sealed class ExportedPasskey
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Aaguid { get; set; } = "";
    public string? Transports { get; set; }
    public long BackupEligible { get; set; }
    public long BackedUp { get; set; }
    public long CreatedAt { get; set; }
    public long? LastUsedAt { get; set; }
}

internal sealed class ExportedApiKey
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Prefix { get; set; } = "";
    public string Scopes { get; set; } = "";
    public string Environment { get; set; } = "";
    public string? ProjectId { get; set; }
    public long CreatedAt { get; set; }
    public long? ExpiresAt { get; set; }
    public long? RotatedAt { get; set; }
    public long? LastUsedAt { get; set; }
    public long UseCount { get; set; }
    public long? RevokedAt { get; set; }
}

internal sealed class ExportedSignIn
{
    public string Network { get; set; } = "";
    public string Device { get; set; } = "";
    public long LastSeen { get; set; }
    public double? Latitude { get; set; }
    public double? Longitude { get; set; }
}
