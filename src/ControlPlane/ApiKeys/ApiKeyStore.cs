using System.Buffers.Text;
using System.Data.Common;
using Authio.ControlPlane.Storage;
using Authio.Shared.ApiKeys;
using Dapper;

namespace Authio.ControlPlane.ApiKeys;

/// <summary>
/// The API-key tables: <c>api_keys</c>, <c>api_key_secrets</c> (SHA-256 of each secret, never the secret) and
/// <c>api_key_scopes</c>. Methods taking a connection run inside the caller's org transaction.
/// </summary>
internal sealed class ApiKeyStore(Db db)
{
    /// <summary>The stored form of a key: SHA-256, base64url without padding (what edges send to look it up).</summary>
    public static string DigestOf(string key) => Base64Url.EncodeToString(ApiKeyFormat.ComputeDigest(key));

    /// <summary>A digest as edges send it: base64url, no padding, 32 bytes.</summary>
    public static bool IsDigest(string? digest)
    {
        if (digest is null || digest.Length != 43)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[ApiKeyFormat.DigestLength + 2];
        return Base64Url.TryDecodeFromChars(digest, bytes, out var written) && written == ApiKeyFormat.DigestLength;
    }

    public Task<List<ApiKeyRow>> ListAsync(string orgId, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => (await c.QueryAsync<ApiKeyRow>(
            "SELECT * FROM api_keys WHERE org_id = @orgId ORDER BY created_at DESC, id", new { orgId }, tx)).ToList(), ct);

    public Task<ApiKeyRow?> GetAsync(string orgId, string id, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => GetRowAsync(c, tx, orgId, id), ct);

    public static Task InsertAsync(DbConnection c, DbTransaction tx, ApiKeyRow row) => c.ExecuteAsync("""
        INSERT INTO api_keys (org_id, id, name, prefix, scopes, environment, project_id, created_by, created_at, expires_at)
        VALUES (@OrgId, @Id, @Name, @Prefix, @Scopes, @Environment, @ProjectId, @CreatedBy, @CreatedAt, @ExpiresAt)
        """, row, tx);

    public static Task InsertSecretAsync(DbConnection c, DbTransaction tx, ApiKeyRow k, string key, long now) =>
        c.ExecuteAsync("INSERT INTO api_key_secrets (digest, org_id, key_id, created_at) VALUES (@digest, @orgId, @keyId, @now)",
            new { digest = DigestOf(key), orgId = k.OrgId, keyId = k.Id, now }, tx);

    /// <summary>
    /// Reads the key after a no-op write on its row, so concurrent rotations and revocations of one key run one after
    /// the other (PostgreSQL row lock; SQLite write lock taken up front) and each sees the other's secrets.
    /// </summary>
    public static async Task<ApiKeyRow?> LockRowAsync(DbConnection c, DbTransaction tx, string orgId, string id)
    {
        await c.ExecuteAsync("UPDATE api_keys SET use_count = use_count WHERE org_id = @orgId AND id = @id", new { orgId, id }, tx);
        return await GetRowAsync(c, tx, orgId, id);
    }

    public static Task<ApiKeyRow?> GetRowAsync(DbConnection c, DbTransaction tx, string orgId, string id) =>
        c.QuerySingleOrDefaultAsync<ApiKeyRow>("SELECT * FROM api_keys WHERE org_id = @orgId AND id = @id", new { orgId, id }, tx);

    /// <summary>Marks one key revoked; false when it already was (or does not exist).</summary>
    public static async Task<bool> MarkRevokedAsync(DbConnection c, DbTransaction tx, string orgId, string id, string actorId, long now) =>
        await c.ExecuteAsync("UPDATE api_keys SET revoked_at = @now, revoked_by = @actorId WHERE org_id = @orgId AND id = @id AND revoked_at IS NULL",
            new { now, actorId, orgId, id }, tx) == 1;

    /// <summary>Ends every secret of the key at <paramref name="validUntil"/>, never extending an earlier, shorter grace.</summary>
    public static Task LimitSecretsAsync(DbConnection c, DbTransaction tx, string orgId, string id, long validUntil) => c.ExecuteAsync("""
        UPDATE api_key_secrets SET valid_until = @validUntil
        WHERE org_id = @orgId AND key_id = @id AND (valid_until IS NULL OR valid_until > @validUntil)
        """, new { validUntil, orgId, id }, tx);

    public static Task SaveRotationAsync(DbConnection c, DbTransaction tx, ApiKeyRow k) =>
        c.ExecuteAsync("UPDATE api_keys SET prefix = @Prefix, rotated_at = @RotatedAt WHERE org_id = @OrgId AND id = @Id", k, tx);

    /// <summary>The live keys <paramref name="userId"/> created, in id order (the order their rows are locked in).</summary>
    public static async Task<List<ApiKeyRow>> LiveKeysCreatedByAsync(DbConnection c, DbTransaction tx, string orgId, string userId) =>
        (await c.QueryAsync<ApiKeyRow>(
            "SELECT * FROM api_keys WHERE org_id = @orgId AND created_by = @userId AND revoked_at IS NULL ORDER BY id", new { orgId, userId }, tx)).ToList();

    /// <summary>The secret with this digest, across orgs (an edge does not know the org): on PostgreSQL through an owner-run function.</summary>
    public Task<ApiKeySecretRef?> FindSecretAsync(string digest, CancellationToken ct)
    {
        var sql = db.Dialect == Dialect.Postgres
            ? "SELECT org_id, key_id, valid_until FROM authio_api_key_by_digest(@digest)"
            : "SELECT org_id, key_id, valid_until FROM api_key_secrets WHERE digest = @digest";
        return db.GlobalAsync((c, tx) => c.QuerySingleOrDefaultAsync<ApiKeySecretRef>(sql, new { digest }, tx), ct);
    }

    /// <summary>The org of each known key id, across orgs; unknown ids are left out.</summary>
    public Task<Dictionary<string, string>> OrgsOfAsync(IEnumerable<string> ids, CancellationToken ct)
    {
        var sql = db.Dialect == Dialect.Postgres ? "SELECT authio_api_key_org(@id)" : "SELECT org_id FROM api_keys WHERE id = @id";
        return db.GlobalAsync(async (c, tx) =>
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var id in ids)
            {
                if (await c.ExecuteScalarAsync<string?>(sql, new { id }, tx) is { } org)
                {
                    map[id] = org;
                }
            }
            return map;
        }, ct);
    }

    /// <summary>Adds each key's reported uses and keeps its latest use, in one org transaction; the number of keys found.</summary>
    public Task<int> AddUsageAsync(string orgId, IEnumerable<(string Id, long Count, long? LastUsedAt)> usage, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            var n = 0;
            foreach (var (id, count, last) in usage)
            {
                n += await c.ExecuteAsync("""
                    UPDATE api_keys SET use_count = use_count + @count,
                      last_used_at = CASE WHEN @last IS NULL THEN last_used_at
                        WHEN last_used_at IS NULL OR last_used_at < @last THEN @last ELSE last_used_at END
                    WHERE org_id = @orgId AND id = @id
                    """, new { count, last, orgId, id }, tx);
            }
            return n;
        }, ct);

    /// <summary>Flags the key's expiry as audited; true only for the first caller.</summary>
    public async Task<bool> MarkExpiryAuditedAsync(ApiKeyRow key, CancellationToken ct) =>
        await db.InOrgAsync(key.OrgId, (c, tx) => c.ExecuteAsync(
            "UPDATE api_keys SET expiry_audited = 1 WHERE org_id = @OrgId AND id = @Id AND expiry_audited = 0", key, tx), ct) == 1;

    public Task<List<(string Name, string? Description, string? OrgId)>> ListScopesAsync(string orgId, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => (await c.QueryAsync<(string Name, string? Description, string? OrgId)>("""
            SELECT name, description, org_id FROM api_key_scopes WHERE org_id IS NULL OR org_id = @orgId
            ORDER BY CASE WHEN org_id IS NULL THEN 0 ELSE 1 END, name
            """, new { orgId }, tx)).ToList(), ct);

    /// <summary>The subset of <paramref name="names"/> that are scopes of the org (built-in or its own).</summary>
    public static async Task<HashSet<string>> KnownScopesAsync(DbConnection c, DbTransaction tx, string orgId, IEnumerable<string> names)
    {
        // All of the org's scopes (a short list) rather than "IN @names", which Dapper expands differently per provider.
        var all = (await c.QueryAsync<string>("SELECT name FROM api_key_scopes WHERE org_id IS NULL OR org_id = @orgId", new { orgId }, tx))
            .ToHashSet(StringComparer.Ordinal);
        return names.Where(all.Contains).ToHashSet(StringComparer.Ordinal);
    }

    public static Task InsertScopeAsync(DbConnection c, DbTransaction tx, string orgId, string name, string? description, string by, long now) => c.ExecuteAsync("""
        INSERT INTO api_key_scopes (org_id, name, description, created_by, created_at) VALUES (@orgId, @name, @description, @by, @now)
        """, new { orgId, name, description, by, now }, tx);
}
