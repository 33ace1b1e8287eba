using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Mfa;

internal sealed class TotpRow
{
    public string UserId { get; set; } = "";
    public string SealedSecret { get; set; } = "";
    public long? ConfirmedAt { get; set; }
    /// <summary>The latest accepted time step: a code of this step or an earlier one is a replay.</summary>
    public long? LastStep { get; set; }
    public long CreatedAt { get; set; }
}

internal sealed class MfaChallengeRow
{
    public string OrgId { get; set; } = "";
    public string Id { get; set; } = "";
    public string UserId { get; set; } = "";
    public string? Ip { get; set; }
    public string? UserAgent { get; set; }
    public long CreatedAt { get; set; }
    public long ExpiresAt { get; set; }
    public long? UsedAt { get; set; }
    public long Failures { get; set; }
}

/// <summary>
/// Second factors (TOTP, recovery codes) and the first steps of two-step sign-ins. Second factors belong to a user (no
/// org), read and written inside one of the user's orgs (on PostgreSQL, RLS admits the rows of the orgs' members only).
/// </summary>
internal sealed class MfaStore(Db db)
{
    public Task<TotpRow?> TotpAsync(string orgId, string userId, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.QuerySingleOrDefaultAsync<TotpRow>("SELECT * FROM mfa_totp WHERE user_id = @userId", new { userId }, tx), ct);

    /// <summary>Stores a new, unconfirmed secret (replacing an unconfirmed one); false when a confirmed one exists.</summary>
    public Task<bool> PutPendingTotpAsync(string orgId, string userId, string sealedSecret, long now, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => await c.ExecuteAsync("""
            INSERT INTO mfa_totp (user_id, sealed_secret, created_at) VALUES (@userId, @sealedSecret, @now)
            ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, created_at = excluded.created_at, last_step = NULL
            WHERE mfa_totp.confirmed_at IS NULL
            """, new { userId, sealedSecret, now }, tx) == 1, ct);

    /// <summary>Confirms the pending secret with its first accepted step and replaces the recovery codes, atomically.</summary>
    public Task<bool> ConfirmTotpAsync(string orgId, string userId, long step, IReadOnlyList<string> recoveryHashes, long now, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            var confirmed = await c.ExecuteAsync("""
                UPDATE mfa_totp SET confirmed_at = @now, last_step = @step WHERE user_id = @userId AND confirmed_at IS NULL
                """, new { userId, step, now }, tx) == 1;
            if (confirmed)
            {
                await ReplaceRecoveryCodesAsync(c, tx, userId, recoveryHashes, now);
            }

            return confirmed;
        }, ct);

    /// <summary>Accepts a time step once: false when this step or a later one was accepted before (a replay, or a race lost).</summary>
    public Task<bool> UseStepAsync(string orgId, string userId, long step, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => await c.ExecuteAsync("""
            UPDATE mfa_totp SET last_step = @step
            WHERE user_id = @userId AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < @step)
            """, new { userId, step }, tx) == 1, ct);

    /// <summary>Removes the authenticator and every recovery code; false when there was no authenticator.</summary>
    public Task<bool> RemoveTotpAsync(string orgId, string userId, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            await c.ExecuteAsync("DELETE FROM mfa_recovery_codes WHERE user_id = @userId", new { userId }, tx);
            return await c.ExecuteAsync("DELETE FROM mfa_totp WHERE user_id = @userId", new { userId }, tx) == 1;
        }, ct);

    public Task ReplaceRecoveryCodesAsync(string orgId, string userId, IReadOnlyList<string> hashes, long now, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            await ReplaceRecoveryCodesAsync(c, tx, userId, hashes, now);
            return 0;
        }, ct);

    private static async Task ReplaceRecoveryCodesAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string userId,
        IReadOnlyList<string> hashes, long now)
    {
        await c.ExecuteAsync("DELETE FROM mfa_recovery_codes WHERE user_id = @userId", new { userId }, tx);
        foreach (var hash in hashes)
        {
            await c.ExecuteAsync("INSERT INTO mfa_recovery_codes (user_id, code_hash, created_at) VALUES (@userId, @hash, @now)",
                new { userId, hash, now }, tx);
        }
    }

    /// <summary>Spends a recovery code: 1 = spent now, 0 = already used, -1 = not one of the user's codes.</summary>
    public Task<int> UseRecoveryCodeAsync(string orgId, string userId, string hash, long now, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            if (await c.ExecuteAsync("""
                UPDATE mfa_recovery_codes SET used_at = @now WHERE user_id = @userId AND code_hash = @hash AND used_at IS NULL
                """, new { userId, hash, now }, tx) == 1)
            {
                return 1;
            }

            return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = @userId AND code_hash = @hash",
                new { userId, hash }, tx) > 0 ? 0 : -1;
        }, ct);

    public Task<long> RecoveryCodesLeftAsync(string orgId, string userId, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = @userId AND used_at IS NULL", new { userId }, tx), ct);

    /// <summary>Records a first step; drops the org's challenges that expired over an hour ago (they only prove a refusal).</summary>
    public Task InsertChallengeAsync(MfaChallengeRow row, CancellationToken ct) =>
        db.InOrgAsync(row.OrgId, async (c, tx) =>
        {
            await c.ExecuteAsync("DELETE FROM mfa_challenges WHERE org_id = @OrgId AND expires_at < @CreatedAt - 3600000", row, tx);
            return await c.ExecuteAsync("""
                INSERT INTO mfa_challenges (org_id, id, user_id, ip, user_agent, created_at, expires_at)
                VALUES (@OrgId, @Id, @UserId, @Ip, @UserAgent, @CreatedAt, @ExpiresAt)
                """, row, tx);
        }, ct);

    public Task<MfaChallengeRow?> ChallengeAsync(string orgId, string id, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.QuerySingleOrDefaultAsync<MfaChallengeRow>(
            "SELECT * FROM mfa_challenges WHERE org_id = @orgId AND id = @id", new { orgId, id }, tx), ct);

    /// <summary>Uses a first step up: true for the one caller that consumed it.</summary>
    public Task<bool> ConsumeChallengeAsync(string orgId, string id, long now, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => await c.ExecuteAsync(
            "UPDATE mfa_challenges SET used_at = @now WHERE org_id = @orgId AND id = @id AND used_at IS NULL", new { orgId, id, now }, tx) == 1, ct);

    /// <summary>Counts a wrong second factor against the first step; at <paramref name="max"/> it is used up. Returns the count.</summary>
    public Task<long> FailChallengeAsync(string orgId, string id, long max, long now, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            await c.ExecuteAsync("""
                UPDATE mfa_challenges SET failures = failures + 1,
                  used_at = CASE WHEN failures + 1 >= @max THEN @now ELSE used_at END
                WHERE org_id = @orgId AND id = @id
                """, new { orgId, id, max, now }, tx);
            return await c.ExecuteScalarAsync<long>("SELECT failures FROM mfa_challenges WHERE org_id = @orgId AND id = @id", new { orgId, id }, tx);
        }, ct);
}
