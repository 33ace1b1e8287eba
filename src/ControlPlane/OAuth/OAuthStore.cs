using System.Data.Common;
using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.OAuth;

/// <summary>What RFC 7009 revocation and RFC 7662 introspection read: revocations and refresh tokens with their sessions.</summary>
internal sealed class OAuthStore(Db db)
{
    public static async Task<bool> IsRevokedAsync(DbConnection c, DbTransaction tx, string orgId, string kind, string value) =>
        await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM revocations WHERE org_id = @orgId AND kind = @kind AND value = @value",
            new { orgId, kind, value }, tx) > 0;

    /// <summary>The live revocations that could apply to an access token with these claims.</summary>
    public Task<List<(string Kind, long? NotBefore)>> RevocationsOfAsync(string orgId, string jti, string? sid, string sub, long now, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => (await c.QueryAsync<(string Kind, long? NotBefore)>("""
            SELECT kind, not_before FROM revocations WHERE org_id = @orgId AND expires_at > @now AND
              ((kind = 'jti' AND value = @jti) OR (kind = 'sid' AND value = @sid) OR (kind = 'user_not_before' AND value = @sub))
            """, new { orgId, now, jti, sid, sub }, tx)).ToList(), ct);

    /// <summary>The session and user of an unexpired refresh token (rotated or not); default when none.</summary>
    public Task<(string SessionId, string UserId)> LiveRefreshSessionAsync(string orgId, string hash, long now, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.QuerySingleOrDefaultAsync<(string SessionId, string UserId)>("""
            SELECT r.session_id, s.user_id FROM refresh_tokens r JOIN sessions s ON s.org_id = r.org_id AND s.id = r.session_id
            WHERE r.org_id = @orgId AND r.hash = @hash AND r.expires_at > @now
            """, new { orgId, hash, now }, tx), ct);

    public Task<(string SessionId, string UserId, long CreatedAt, long ExpiresAt, long? RotatedAt, long? EndedAt)> RefreshTokenAsync(
        string orgId, string hash, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => c.QuerySingleOrDefaultAsync<(string SessionId, string UserId, long CreatedAt, long ExpiresAt, long? RotatedAt, long? EndedAt)>("""
            SELECT r.session_id, s.user_id, r.created_at, r.expires_at, r.rotated_at, s.ended_at
            FROM refresh_tokens r JOIN sessions s ON s.org_id = r.org_id AND s.id = r.session_id
            WHERE r.org_id = @orgId AND r.hash = @hash
            """, new { orgId, hash }, tx), ct);
}
