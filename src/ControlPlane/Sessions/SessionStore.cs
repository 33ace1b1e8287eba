using System.Data.Common;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Sessions;

internal sealed class SessionRow
{
    public string OrgId { get; set; } = "";
    public string Id { get; set; } = "";
    public string UserId { get; set; } = "";
    public long CreatedAt { get; set; }
    public long LastSeenAt { get; set; }
    public string? Ip { get; set; }
    public string? UserAgent { get; set; }
    public long AccessExpiresAt { get; set; }
    public long? EndedAt { get; set; }
    public string? EndReason { get; set; }
}

internal static class EndReasons
{
    public const string Logout = "logout";
    public const string LogoutAll = "logout_all";
    public const string Ended = "ended";
    public const string IdleTimeout = "idle_timeout";
    public const string RefreshReuse = "refresh_reuse";
    public const string SessionLimit = "session_limit";
    public const string PasswordChanged = "password_changed";
    public const string Deactivated = "user_deactivated";
    public const string TokenRevoked = "token_revoked";
}

/// <summary>
/// Session rows and the revocation records ending them produces. A revocation stays relevant until the last
/// access token it could affect has expired, so its <c>expires_at</c> is that moment plus clock skew.
/// </summary>
internal sealed class SessionStore(Db db, ControlPlaneOptions options, EdgeChangeLog changes)
{
    private long SkewMs => (long)options.Tokens.ClockSkew.TotalMilliseconds;

    public Task<bool> IsLiveAsync(string orgId, string sessionId, string userId, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.ExecuteScalarAsync<bool>("""
            SELECT COUNT(*) > 0 FROM sessions s JOIN memberships m ON m.org_id = s.org_id AND m.user_id = s.user_id
            WHERE s.org_id = @orgId AND s.id = @sessionId AND s.user_id = @userId AND s.ended_at IS NULL AND m.active = 1
            """, new { orgId, sessionId, userId }, tx), ct);

    public static Task<SessionRow?> GetAsync(DbConnection c, DbTransaction tx, string orgId, string sessionId) =>
        c.QuerySingleOrDefaultAsync<SessionRow>("SELECT * FROM sessions WHERE org_id = @orgId AND id = @sessionId", new { orgId, sessionId }, tx);

    public static async Task<List<SessionRow>> LiveOfUserAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        (await c.QueryAsync<SessionRow>(
            "SELECT * FROM sessions WHERE org_id = @orgId AND user_id = @userId AND ended_at IS NULL ORDER BY created_at, id",
            new { orgId, userId }, tx)).ToList();

    /// <summary>Ends one session and records a <c>sid</c> revocation. False if it had already ended.</summary>
    public async Task<bool> EndAsync(DbConnection c, DbTransaction tx, string orgId, string sessionId, string reason, long now)
    {
        await changes.LockAsync(c, tx);
        var s = await GetAsync(c, tx, orgId, sessionId);
        if (s is null || s.EndedAt is not null) return false;
        await c.ExecuteAsync("UPDATE sessions SET ended_at = @now, end_reason = @reason WHERE org_id = @orgId AND id = @sessionId",
            new { now, reason, orgId, sessionId }, tx);
        await InsertRevocationAsync(c, tx, orgId, "sid", sessionId, null, now, Math.Max(s.AccessExpiresAt, now) + SkewMs);
        return true;
    }

    /// <summary>Ends every live session of a user with one <c>user_not_before</c> revocation; returns the ended ids.</summary>
    public async Task<List<string>> EndAllAsync(DbConnection c, DbTransaction tx, string orgId, string userId, string reason, long now)
    {
        await changes.LockAsync(c, tx);
        var live = await LiveOfUserAsync(c, tx, orgId, userId);
        await c.ExecuteAsync("UPDATE sessions SET ended_at = @now, end_reason = @reason WHERE org_id = @orgId AND user_id = @userId AND ended_at IS NULL",
            new { now, reason, orgId, userId }, tx);
        var horizon = (long)(options.Tokens.MaxAccessTokenTtl + options.Tokens.ClockSkew).TotalMilliseconds;
        await InsertRevocationAsync(c, tx, orgId, "user_not_before", userId, now, now, now + horizon);
        return live.Select(s => s.Id).ToList();
    }

    private Task InsertRevocationAsync(DbConnection c, DbTransaction tx, string orgId, string kind, string value, long? notBefore, long now, long expiresAt) =>
        changes.AppendRevocationAsync(c, tx, orgId, kind, value, notBefore, now, expiresAt);
}
