using System.Data.Common;
using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Users;

/// <summary>A sign-in identity. Shared by every org the person belongs to; org data hangs off memberships.</summary>
internal sealed class UserRow
{
    public string Id { get; set; } = "";
    public string Email { get; set; } = "";
    public string PasswordHash { get; set; } = "";
    public long PasswordChangedAt { get; set; }
    public long CreatedAt { get; set; }
}

/// <summary>Recent sign-in failures of one email key.</summary>
internal sealed class LoginFailureRow
{
    public long FailedCount { get; set; }
    public long WindowStart { get; set; }
    public long? LockedUntil { get; set; }
}

/// <summary>A user as seen inside one org.</summary>
internal sealed class MemberRow
{
    public string UserId { get; set; } = "";
    public string Email { get; set; } = "";
    public string Role { get; set; } = "";
    public long Active { get; set; }
    public long CreatedAt { get; set; }
    public long? DeactivatedAt { get; set; }
}

internal sealed class UserStore(Db db)
{
    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();

    private bool Pg => db.Dialect == Dialect.Postgres;

    /// <summary>Sign-in lookup, before any org is known (on PostgreSQL through the owner's function).</summary>
    public Task<UserRow?> FindByEmailAsync(string email, CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => c.QuerySingleOrDefaultAsync<UserRow>(
            Pg ? "SELECT * FROM authio_find_user_by_email(@email)" : "SELECT * FROM users WHERE email = @email",
            new { email = NormalizeEmail(email) }, tx), ct);

    /// <summary>A user as stored, only if a member of <paramref name="orgId"/>.</summary>
    public Task<UserRow?> GetInOrgAsync(string orgId, string id, CancellationToken ct = default) =>
        db.InOrgAsync(orgId, (c, tx) => c.QuerySingleOrDefaultAsync<UserRow>("""
            SELECT u.* FROM users u JOIN memberships m ON m.user_id = u.id AND m.org_id = @orgId WHERE u.id = @id
            """, new { orgId, id }, tx), ct);

    public Task<long> CountAsync(CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => c.ExecuteScalarAsync<long>(Pg ? "SELECT authio_user_count()" : "SELECT COUNT(*) FROM users", transaction: tx), ct);

    public static Task InsertAsync(DbConnection c, DbTransaction tx, UserRow u) => c.ExecuteAsync("""
        INSERT INTO users (id, email, password_hash, failed_count, password_changed_at, created_at)
        VALUES (@Id, @Email, @PasswordHash, 0, @PasswordChangedAt, @CreatedAt)
        """, u, tx);

    /// <summary>Lockout state of one email key (see <c>LoginFailures</c>); null when it has no recent failure.</summary>
    public Task<LoginFailureRow?> LoginFailureAsync(string key, CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => c.QuerySingleOrDefaultAsync<LoginFailureRow>(
            "SELECT failed_count, window_start, locked_until FROM login_failures WHERE email_key = @key", new { key }, tx), ct);

    /// <summary>
    /// Counts one failure for an email key atomically (parallel guesses cannot lose increments), known account or not,
    /// and returns the count within the current window; a failure after the window starts a new one.
    /// </summary>
    public Task<long> AddLoginFailureAsync(string key, long now, long windowMs, CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => c.ExecuteScalarAsync<long>("""
            INSERT INTO login_failures (email_key, failed_count, window_start, locked_until, updated_at) VALUES (@key, 1, @now, NULL, @now)
            ON CONFLICT (email_key) DO UPDATE SET
              failed_count = CASE WHEN @now - login_failures.window_start <= @windowMs THEN login_failures.failed_count + 1 ELSE 1 END,
              window_start = CASE WHEN @now - login_failures.window_start <= @windowMs THEN login_failures.window_start ELSE @now END,
              updated_at = @now
            RETURNING failed_count
            """, new { key, now, windowMs }, tx), ct);

    public Task LockLoginAsync(string key, long now, long lockedUntil, CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => c.ExecuteAsync(
            "UPDATE login_failures SET failed_count = 0, window_start = @now, locked_until = @lockedUntil, updated_at = @now WHERE email_key = @key",
            new { key, now, lockedUntil }, tx), ct);

    public Task ClearLoginFailuresAsync(string key, CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => c.ExecuteAsync("DELETE FROM login_failures WHERE email_key = @key", new { key }, tx), ct);

    public Task<int> PruneLoginFailuresAsync(long now, long windowMs, CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => c.ExecuteAsync(
            "DELETE FROM login_failures WHERE (locked_until IS NULL OR locked_until <= @now) AND window_start < @since",
            new { now, since = now - windowMs }, tx), ct);

    /// <summary>Sets the password of a member of <paramref name="orgId"/>.</summary>
    public Task SetPasswordAsync(string orgId, string id, string hash, long now, CancellationToken ct = default) =>
        db.InOrgAsync(orgId, (c, tx) => c.ExecuteAsync(
            "UPDATE users SET password_hash = @hash, password_changed_at = @now WHERE id = @id", new { id, hash, now }, tx), ct);

    /// <summary>Orgs the user belongs to (active or not). On PostgreSQL this crosses RLS through the owner's function.</summary>
    public Task<List<(string OrgId, bool Active)>> OrgsOfAsync(string userId, CancellationToken ct = default) =>
        db.GlobalAsync(async (c, tx) =>
        {
            var sql = db.Dialect == Dialect.Postgres
                ? "SELECT org_id AS OrgId, active AS Active FROM authio_user_orgs(@userId)"
                : "SELECT org_id AS OrgId, active AS Active FROM memberships WHERE user_id = @userId";
            var rows = await c.QueryAsync<(string OrgId, long Active)>(sql, new { userId }, tx);
            return rows.Select(r => (r.OrgId, r.Active == 1)).ToList();
        }, ct);

    public static Task<MemberRow?> MemberAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        c.QuerySingleOrDefaultAsync<MemberRow>("""
            SELECT m.user_id, u.email, m.role, m.active, m.created_at, m.deactivated_at
            FROM memberships m JOIN users u ON u.id = m.user_id
            WHERE m.org_id = @orgId AND m.user_id = @userId
            """, new { orgId, userId }, tx);

    public static async Task<List<string>> TeamsOfAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        (await c.QueryAsync<string>("SELECT team_id FROM team_members WHERE org_id = @orgId AND user_id = @userId ORDER BY team_id",
            new { orgId, userId }, tx)).ToList();

    /// <summary>The user's project roles in the org (project id → role), as access tokens carry them (<c>projects</c>).</summary>
    public static async Task<Dictionary<string, string>> ProjectRolesOfAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        (await c.QueryAsync<(string ProjectId, string Role)>(
            "SELECT project_id, role FROM project_roles WHERE org_id = @orgId AND user_id = @userId ORDER BY project_id", new { orgId, userId }, tx))
            .ToDictionary(p => p.ProjectId, p => p.Role, StringComparer.Ordinal);

    public static Task InsertMembershipAsync(DbConnection c, DbTransaction tx, string orgId, string userId, string role, long now) =>
        c.ExecuteAsync("INSERT INTO memberships (org_id, user_id, role, active, created_at) VALUES (@orgId, @userId, @role, 1, @now)",
            new { orgId, userId, role, now }, tx);

    /// <summary>The org's members (active or not), oldest first.</summary>
    public static async Task<List<string>> MemberIdsAsync(DbConnection c, DbTransaction tx, string orgId) =>
        (await c.QueryAsync<string>("SELECT user_id FROM memberships WHERE org_id = @orgId ORDER BY created_at, user_id", new { orgId }, tx)).ToList();

    /// <summary>
    /// One page of the org's members (active or not) in email order, after <paramref name="afterEmail"/>; <paramref name="pattern"/>
    /// is a lower-case LIKE pattern (wildcards in the search text escaped with <c>\</c>) matched against email and id.
    /// </summary>
    public static async Task<List<string>> MemberIdsPageAsync(DbConnection c, DbTransaction tx, string orgId, string? pattern, string? afterEmail, int limit)
    {
        var where = "m.org_id = @orgId";
        if (afterEmail is not null)
        {
            where += " AND u.email > @afterEmail";
        }

        if (pattern is not null)
        {
            where += @" AND (LOWER(u.email) LIKE @pattern ESCAPE '\' OR LOWER(u.id) LIKE @pattern ESCAPE '\')";
        }

        return (await c.QueryAsync<string>($"SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE {where} ORDER BY u.email LIMIT @limit",
            new { orgId, pattern, afterEmail, limit }, tx)).ToList();
    }

    public static Task DeactivateMembershipAsync(DbConnection c, DbTransaction tx, string orgId, string userId, long now) =>
        c.ExecuteAsync("UPDATE memberships SET active = 0, deactivated_at = @now WHERE org_id = @orgId AND user_id = @userId", new { now, orgId, userId }, tx);

    public static Task SetRoleAsync(DbConnection c, DbTransaction tx, string orgId, string userId, string role) =>
        c.ExecuteAsync("UPDATE memberships SET role = @role WHERE org_id = @orgId AND user_id = @userId", new { role, orgId, userId }, tx);

    public static Task SetProjectRoleAsync(DbConnection c, DbTransaction tx, string orgId, string userId, string projectId, string role) => c.ExecuteAsync("""
        INSERT INTO project_roles (org_id, user_id, project_id, role) VALUES (@orgId, @userId, @projectId, @role)
        ON CONFLICT (org_id, user_id, project_id) DO UPDATE SET role = excluded.role
        """, new { orgId, userId, projectId, role }, tx);

    public static Task<int> RemoveProjectRoleAsync(DbConnection c, DbTransaction tx, string orgId, string userId, string projectId) =>
        c.ExecuteAsync("DELETE FROM project_roles WHERE org_id = @orgId AND user_id = @userId AND project_id = @projectId", new { orgId, userId, projectId }, tx);

    public static async Task<List<(string ProjectId, string Role)>> ProjectRolesAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        (await c.QueryAsync<(string ProjectId, string Role)>(
            "SELECT project_id, role FROM project_roles WHERE org_id = @orgId AND user_id = @userId ORDER BY project_id", new { orgId, userId }, tx)).ToList();
}
