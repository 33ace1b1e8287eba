using System.Data.Common;
using Authio.ControlPlane.Api;
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
    /// <summary>How the user authenticated (space-separated <c>amr</c>), the <c>acr</c> and <c>auth_time</c> (unix s); null on sessions from before they were kept.</summary>
    public string? Amr { get; set; }
    public string? Acr { get; set; }
    public long? AuthTime { get; set; }
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
    public const string RoleChanged = "role_changed";
    public const string Erased = "user_erased";
}

/// <summary>A live session with its user's email, as the org-wide list shows it.</summary>
internal sealed class OrgSessionRow
{
    public string Id { get; set; } = "";
    public string UserId { get; set; } = "";
    public string Email { get; set; } = "";
    public long CreatedAt { get; set; }
    public long LastSeenAt { get; set; }
    public string? Ip { get; set; }
    public string? UserAgent { get; set; }
}

/// <summary>What the admin API needs to know about a caller's session, read in one query (see <see cref="SessionStore.AuthorityAsync"/>).</summary>
internal sealed class SessionAuthorityRow
{
    public string UserId { get; set; } = "";
    public long CreatedAt { get; set; }
    public long? EndedAt { get; set; }
    /// <summary>The user's current org-wide role; null when no longer a member.</summary>
    public string? Role { get; set; }
    public long? Active { get; set; }
    /// <summary>The latest live <c>user_not_before</c> of the user in this org (unix ms), if any.</summary>
    public long? NotBefore { get; set; }
    public long SidRevoked { get; set; }
    public long JtiRevoked { get; set; }
}

/// <summary>
/// Session rows and the revocation records ending them produces. A revocation stays relevant until the last
/// access token it could affect has expired, so its <c>expires_at</c> is that moment plus clock skew.
/// </summary>
/// <remarks>
/// Lock order, on both stores, so that refreshes and endings serialise per session without deadlocks: the user's
/// membership row (session start, logout-all, deactivation, role change), then session rows, then the change-log append
/// lock. Every ending locks its sessions with the UPDATE that ends them (<c>ended_at IS NULL</c> re-checked after any
/// wait) before it appends; a refresh locks its refresh-token row and then its session row before reading anything. On
/// SQLite the first statement of each is a write, so the transaction holds the database's write lock from the start.
/// </remarks>
internal sealed class SessionStore(Db db, ControlPlaneOptions options, EdgeChangeStore changes)
{
    private long SkewMs => (long)options.Tokens.ClockSkew.TotalMilliseconds;

    private bool Pg => db.Dialect == Dialect.Postgres;

    /// <summary>
    /// The caller authority's one read: the session, the user's current membership, the user's not-before in the org and
    /// whether the session or <paramref name="tokenId"/> is revoked. Null when the session does not exist in the org.
    /// </summary>
    public Task<SessionAuthorityRow?> AuthorityAsync(string orgId, string sessionId, string? tokenId, long now, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.QuerySingleOrDefaultAsync<SessionAuthorityRow>("""
            SELECT s.user_id, s.created_at, s.ended_at, m.role, m.active,
              (SELECT MAX(r.not_before) FROM revocations r
               WHERE r.org_id = s.org_id AND r.kind = 'user_not_before' AND r.value = s.user_id AND r.expires_at > @now) AS not_before,
              (SELECT COUNT(*) FROM revocations r WHERE r.org_id = s.org_id AND r.kind = 'sid' AND r.value = s.id AND r.expires_at > @now) AS sid_revoked,
              (SELECT COUNT(*) FROM revocations r WHERE r.org_id = s.org_id AND r.kind = 'jti' AND r.value = @tokenId AND r.expires_at > @now) AS jti_revoked
            FROM sessions s LEFT JOIN memberships m ON m.org_id = s.org_id AND m.user_id = s.user_id
            WHERE s.org_id = @orgId AND s.id = @sessionId
            """, new { orgId, sessionId, tokenId = tokenId ?? "", now }, tx), ct);

    public static Task<SessionRow?> GetAsync(DbConnection c, DbTransaction tx, string orgId, string sessionId) =>
        c.QuerySingleOrDefaultAsync<SessionRow>("SELECT * FROM sessions WHERE org_id = @orgId AND id = @sessionId", new { orgId, sessionId }, tx);

    /// <summary>
    /// The session row, locked for the rest of the transaction (PostgreSQL <c>FOR UPDATE</c>: waits for an ending or a
    /// refresh in flight and returns the row as that left it; SQLite holds the write lock already).
    /// </summary>
    public Task<SessionRow?> LockAsync(DbConnection c, DbTransaction tx, string orgId, string sessionId) =>
        c.QuerySingleOrDefaultAsync<SessionRow>(
            "SELECT * FROM sessions WHERE org_id = @orgId AND id = @sessionId" + (Pg ? " FOR UPDATE" : ""), new { orgId, sessionId }, tx);

    /// <summary>
    /// Locks the user's membership row in the org (a no-op write: a PostgreSQL row lock, the SQLite write lock) and returns
    /// it as committed now. Session start and every user-wide ending take it first, so they run one after the other.
    /// </summary>
    public static async Task<(string Role, bool Active)?> LockMemberAsync(DbConnection c, DbTransaction tx, string orgId, string userId)
    {
        await c.ExecuteAsync("UPDATE memberships SET active = active WHERE org_id = @orgId AND user_id = @userId", new { orgId, userId }, tx);
        var m = await c.QuerySingleOrDefaultAsync<(string Role, long Active)>(
            "SELECT role, active FROM memberships WHERE org_id = @orgId AND user_id = @userId", new { orgId, userId }, tx);
        return m.Role is null ? null : (m.Role, m.Active == 1);
    }

    /// <summary>The user's latest live <c>user_not_before</c> in the org (unix ms), or null.</summary>
    public static Task<long?> UserNotBeforeAsync(DbConnection c, DbTransaction tx, string orgId, string userId, long now) =>
        c.ExecuteScalarAsync<long?>("""
            SELECT MAX(not_before) FROM revocations
            WHERE org_id = @orgId AND kind = 'user_not_before' AND value = @userId AND expires_at > @now
            """, new { orgId, userId, now }, tx);

    public static async Task<List<SessionRow>> LiveOfUserAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        (await c.QueryAsync<SessionRow>(
            "SELECT * FROM sessions WHERE org_id = @orgId AND user_id = @userId AND ended_at IS NULL ORDER BY created_at, id",
            new { orgId, userId }, tx)).ToList();

    /// <summary>
    /// One page of the org's live sessions, newest first (by created, then id), strictly after the cursor's
    /// <paramref name="before"/> position, each with its user's email.
    /// </summary>
    public static async Task<List<OrgSessionRow>> LiveOfOrgPageAsync(DbConnection c, DbTransaction tx, string orgId, (long CreatedAt, string Id)? before, int limit)
    {
        var after = before is null ? "" : " AND (s.created_at < @createdAt OR (s.created_at = @createdAt AND s.id < @id))";
        return (await c.QueryAsync<OrgSessionRow>($"""
            SELECT s.id, s.user_id, u.email, s.created_at, s.last_seen_at, s.ip, s.user_agent
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.org_id = @orgId AND s.ended_at IS NULL{after}
            ORDER BY s.created_at DESC, s.id DESC LIMIT @limit
            """, new { orgId, createdAt = before?.CreatedAt ?? 0, id = before?.Id ?? "", limit }, tx)).ToList();
    }

    /// <summary>Ends one session and records a <c>sid</c> revocation. False if it had already ended.</summary>
    public async Task<bool> EndAsync(DbConnection c, DbTransaction tx, string orgId, string sessionId, string reason, long now) =>
        (await EndWhereAsync(c, tx, orgId, "id = @sessionId", new { sessionId }, reason, now)).Count > 0;

    /// <summary>
    /// Ends every live session of a user: a <c>sid</c> revocation per session (so a token minted by a refresh that
    /// committed just before is refused whatever its <c>iat</c>) and one <c>user_not_before</c>; returns the ended ids.
    /// </summary>
    public async Task<List<string>> EndAllAsync(DbConnection c, DbTransaction tx, string orgId, string userId, string reason, long now)
    {
        var ended = await EndWhereAsync(c, tx, orgId, "user_id = @userId", new { userId }, reason, now);
        var horizon = (long)(options.Tokens.MaxAccessTokenTtl + options.Tokens.ClockSkew).TotalMilliseconds;
        await InsertRevocationAsync(c, tx, orgId, "user_not_before", userId, now, now, now + horizon);
        return ended;
    }

    /// <summary>Ends the user's live sessions except <paramref name="keepSessionId"/>, each with its own <c>sid</c> revocation.</summary>
    public Task<List<string>> EndOthersAsync(DbConnection c, DbTransaction tx, string orgId, string userId, string? keepSessionId, string reason, long now) =>
        EndWhereAsync(c, tx, orgId, "user_id = @userId AND id <> @keep", new { userId, keep = keepSessionId ?? "" }, reason, now);

    /// <summary>Ends the user's oldest live sessions so that at most <paramref name="keep"/> remain; returns the ended ids.</summary>
    public Task<List<string>> EndOldestAsync(DbConnection c, DbTransaction tx, string orgId, string userId, int keep, string reason, long now) =>
        EndWhereAsync(c, tx, orgId, """
            user_id = @userId AND id IN (
              SELECT id FROM sessions WHERE org_id = @orgId AND user_id = @userId AND ended_at IS NULL ORDER BY created_at, id
              LIMIT (SELECT CASE WHEN COUNT(*) > @keep THEN COUNT(*) - @keep ELSE 0 END FROM sessions WHERE org_id = @orgId AND user_id = @userId AND ended_at IS NULL))
            """, new { userId, keep = (long)Math.Max(0, keep) }, reason, now);

    /// <summary>
    /// Ends the live sessions matching <paramref name="where"/> with one UPDATE that locks them first and re-checks
    /// <c>ended_at IS NULL</c> after any wait; each gets a <c>sid</c> revocation lasting until its last access token (as the
    /// row stands after a refresh that committed first) could be valid.
    /// </summary>
    private async Task<List<string>> EndWhereAsync(DbConnection c, DbTransaction tx, string orgId, string where, object args, string reason, long now)
    {
        var p = new DynamicParameters(args);
        p.AddDynamicParams(new { orgId, reason, now });
        var ended = (await c.QueryAsync<(string Id, long AccessExpiresAt, long CreatedAt)>($"""
            UPDATE sessions SET ended_at = @now, end_reason = @reason
            WHERE org_id = @orgId AND ended_at IS NULL AND {where}
            RETURNING id, access_expires_at, created_at
            """, p, tx)).OrderBy(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal).ToList();
        if (ended.Count > 0)
        {
            await changes.LockAsync(c, tx);
        }

        foreach (var s in ended)
        {
            await InsertRevocationAsync(c, tx, orgId, "sid", s.Id, null, now, Math.Max(s.AccessExpiresAt, now) + SkewMs);
        }

        return ended.Select(s => s.Id).ToList();
    }

    private Task InsertRevocationAsync(DbConnection c, DbTransaction tx, string orgId, string kind, string value, long? notBefore, long now, long expiresAt) =>
        changes.AppendRevocationAsync(c, tx, orgId, kind, value, notBefore, now, expiresAt);

    public static Task InsertAsync(DbConnection c, DbTransaction tx, string orgId, string sid, string userId, long now, ClientInfo client, long accessExpiresAt,
        Tokens.SignInContext signIn) =>
        c.ExecuteAsync("""
            INSERT INTO sessions (org_id, id, user_id, created_at, last_seen_at, ip, user_agent, access_expires_at, amr, acr, auth_time)
            VALUES (@orgId, @sid, @userId, @now, @now, @ip, @ua, @exp, @amr, @acr, @authTime)
            """, new { orgId, sid, userId, now, ip = client.Ip, ua = client.UserAgent, exp = accessExpiresAt, amr = signIn.AmrText, acr = signIn.Acr, authTime = signIn.AuthTime }, tx);

    /// <summary>Step-up: a live session's new authentication context, and the expiry of the access token minted with it.</summary>
    public static async Task<bool> RaiseAsync(DbConnection c, DbTransaction tx, string orgId, string sid, Tokens.SignInContext signIn, long now, long accessExpiresAt) =>
        await c.ExecuteAsync("""
            UPDATE sessions SET amr = @amr, acr = @acr, auth_time = @authTime, last_seen_at = @now,
              access_expires_at = CASE WHEN access_expires_at > @exp THEN access_expires_at ELSE @exp END
            WHERE org_id = @orgId AND id = @sid AND ended_at IS NULL
            """, new { amr = signIn.AmrText, acr = signIn.Acr, authTime = signIn.AuthTime, now, exp = accessExpiresAt, orgId, sid }, tx) == 1;

    /// <summary>Updates a live session's last use and client; false when it is not live.</summary>
    public static async Task<bool> TouchLiveAsync(DbConnection c, DbTransaction tx, string orgId, string sid, long now, ClientInfo client, long accessExpiresAt) =>
        await c.ExecuteAsync("""
            UPDATE sessions SET last_seen_at = @now, ip = @ip, user_agent = @ua, access_expires_at = @exp
            WHERE org_id = @orgId AND id = @sid AND ended_at IS NULL
            """, new { now, ip = client.Ip, ua = client.UserAgent, exp = accessExpiresAt, orgId, sid }, tx) == 1;

    public static Task InsertRefreshTokenAsync(DbConnection c, DbTransaction tx, string orgId, string hash, string sid, long now, long expiresAt) =>
        c.ExecuteAsync("""
            INSERT INTO refresh_tokens (org_id, hash, session_id, created_at, expires_at)
            VALUES (@orgId, @hash, @sid, @now, @exp)
            """, new { orgId, hash, sid, now, exp = expiresAt }, tx);

    /// <summary>Row-locks the refresh token with this hash (a no-op write), then reads it; default SessionId when unknown.</summary>
    public static async Task<(string SessionId, long ExpiresAt, long? RotatedAt)> LockRefreshTokenAsync(DbConnection c, DbTransaction tx, string orgId, string hash)
    {
        await c.ExecuteAsync("UPDATE refresh_tokens SET rotated_at = rotated_at WHERE org_id = @orgId AND hash = @hash", new { orgId, hash }, tx);
        return await c.QuerySingleOrDefaultAsync<(string SessionId, long ExpiresAt, long? RotatedAt)>(
            "SELECT session_id, expires_at, rotated_at FROM refresh_tokens WHERE org_id = @orgId AND hash = @hash", new { orgId, hash }, tx);
    }

    /// <summary>Marks the token rotated; false when another use rotated it first.</summary>
    public static async Task<bool> MarkRotatedAsync(DbConnection c, DbTransaction tx, string orgId, string hash, long now) =>
        await c.ExecuteAsync("UPDATE refresh_tokens SET rotated_at = @now WHERE org_id = @orgId AND hash = @hash AND rotated_at IS NULL",
            new { now, orgId, hash }, tx) == 1;
}
