using System.Buffers.Text;
using System.Data.Common;
using System.Globalization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Orgs;
using Authio.ControlPlane.Storage;
using Authio.Shared.ApiKeys;
using Dapper;

namespace Authio.ControlPlane.ApiKeys;

/// <summary>An edge authenticated with one of its operator's <c>edge:sync</c> keys.</summary>
internal sealed record EdgeCaller(string OrgId, string KeyId)
{
    public const string ItemKey = "authio.edge";

    public static EdgeCaller Of(HttpContext http) =>
        http.Items[ItemKey] as EdgeCaller ?? throw new InvalidOperationException("Endpoint is not behind the edge key filter.");
}

/// <summary>
/// Issuing, listing, rotating and revoking API keys, and the edge's lookups and usage reports. A secret exists in clear
/// only in the response that issues it; the store holds its SHA-256 (base64url) and the display prefix. Nothing here
/// logs or audits a secret or its digest.
/// </summary>
internal sealed partial class ApiKeyService(Db db, AuditLog audit, ControlPlaneOptions options, TimeProvider time, EdgeChangeLog changes,
    PlatformOperators operators, ILogger<ApiKeyService> logger)
{
    public const long MaxGraceSeconds = 7 * 24 * 3600;
    public const int MaxScopesPerKey = 50;
    public const int MaxUsageEntries = 10_000;
    public const string RevocationKind = "api_key";

    /// <summary>
    /// <c>revocations.expires_at</c> of a key without expiry: 9999-12-31T23:59:59.999Z, i.e. relevant until pruned by hand.
    /// A key with an expiry needs its revocation only until then (+ clock skew).
    /// </summary>
    public static readonly long Forever = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>Repeated uses of one revoked key within this window are audited (and logged) once.</summary>
    public static readonly TimeSpan UsedAfterRevokeAuditWindow = TimeSpan.FromMinutes(1);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _usedAfterRevoke = new(StringComparer.Ordinal);

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The stored form of a key: SHA-256, base64url without padding (what edges send to look it up).</summary>
    public static string DigestOf(string key) => Base64Url.EncodeToString(ApiKeyFormat.ComputeDigest(key));

    /// <summary>A digest as edges send it: base64url, no padding, 32 bytes.</summary>
    public static bool IsDigest(string? digest)
    {
        if (digest is null || digest.Length != 43) return false;
        Span<byte> bytes = stackalloc byte[ApiKeyFormat.DigestLength + 2];
        return Base64Url.TryDecodeFromChars(digest, bytes, out var written) && written == ApiKeyFormat.DigestLength;
    }

    public async Task<Result<ApiKeyIssued>> CreateAsync(Caller caller, CreateApiKeyRequest body, CancellationToken ct)
    {
        var now = Now;
        var errors = new Dictionary<string, string[]>();
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100) errors["name"] = ["must be 1 to 100 characters."];
        var scopes = (body.Scopes ?? []).Select(s => s?.Trim() ?? "").Distinct(StringComparer.Ordinal).ToArray();
        if (scopes.Length == 0) errors["scopes"] = ["must list at least one scope."];
        else if (scopes.Length > MaxScopesPerKey) errors["scopes"] = [$"must list at most {MaxScopesPerKey} scopes."];
        if (body.Environment is not ("live" or "test")) errors["environment"] = ["must be live or test."];
        var expiresAt = body.ExpiresAt?.ToUnixTimeMilliseconds();
        if (expiresAt is { } e && e <= now) errors["expires_at"] = ["must be in the future."];
        if (body.ProjectId is { Length: 0 or > 100 }) errors["project_id"] = ["must be 1 to 100 characters."];
        if (!errors.ContainsKey("scopes"))
        {
            var known = await db.InOrgAsync(caller.OrgId, (c, tx) => ApiKeyScopes.KnownAsync(c, tx, caller.OrgId, scopes), ct);
            var unknown = scopes.Where(s => !known.Contains(s)).ToList();
            if (unknown.Count > 0) errors["scopes"] = [$"unknown scope(s): {string.Join(", ", unknown)}. See GET /v1/api-key-scopes."];
        }
        if (errors.Count > 0) return Failure.Invalid(errors);
        var denied = scopes.Where(s => !ApiKeyScopes.CanGrant(caller, s)).ToList();
        if (denied.Count > 0) return Failure.Forbidden($"You cannot grant scopes you do not hold: {string.Join(", ", denied)}.");
        // An edge:sync key reads every org's keys and revocations: a platform credential, minted by operators in an edge org only.
        if (scopes.Contains(EdgeApiKeyPaths.EdgeSyncScope, StringComparer.Ordinal)
            && !(await operators.IsOperatorAsync(caller, ct) && await operators.IsEdgeOrgAsync(caller.OrgId, ct)))
            return Failure.Forbidden($"Only a platform operator may create {EdgeApiKeyPaths.EdgeSyncScope} keys, in the operator org.");

        var environment = body.Environment == "live" ? ApiKeyEnvironment.Live : ApiKeyEnvironment.Test;
        var key = ApiKeyFormat.Generate(environment);
        var row = new ApiKeyRow
        {
            OrgId = caller.OrgId, Id = Ids.New("ak"), Name = name!, Prefix = ApiKeyFormat.DisplayPrefix(key), Scopes = string.Join(' ', scopes),
            Environment = body.Environment!, ProjectId = body.ProjectId, CreatedBy = caller.UserId, CreatedAt = now, ExpiresAt = expiresAt,
        };
        var stillHeld = await db.InOrgAsync(caller.OrgId, async (c, tx) =>
        {
            // The creator's role as committed now, under the membership lock a demotion takes: a key created by a request
            // that raced the demotion either commits first (and the demotion revokes it) or is refused here.
            var member = await Sessions.SessionStore.LockMemberAsync(c, tx, caller.OrgId, caller.UserId);
            if (member is not { Active: true } m || !scopes.All(s => RoleCanGrant(m.Role, s))) return false;
            await c.ExecuteAsync("""
                INSERT INTO api_keys (org_id, id, name, prefix, scopes, environment, project_id, created_by, created_at, expires_at)
                VALUES (@OrgId, @Id, @Name, @Prefix, @Scopes, @Environment, @ProjectId, @CreatedBy, @CreatedAt, @ExpiresAt)
                """, row, tx);
            await InsertSecretAsync(c, tx, row, key, now);
            return true;
        }, ct);
        if (!stillHeld) return Failure.Forbidden("Your role no longer allows granting these scopes.");
        Log.Created(logger, row.Id, row.OrgId, row.Scopes);
        await audit.RecordAsync(Entry(caller, AuditEvents.ApiKeyCreated, row, new()
        {
            ["name"] = row.Name, ["scopes"] = row.Scopes, ["environment"] = row.Environment, ["project_id"] = row.ProjectId,
            ["expires_at"] = Iso(row.ExpiresAt),
        }), ct);
        return Issued(row, key, null);
    }

    public Task<List<ApiKeyView>> ListAsync(string orgId, CancellationToken ct)
    {
        var now = Now;
        return db.InOrgAsync(orgId, async (c, tx) => (await c.QueryAsync<ApiKeyRow>(
            "SELECT * FROM api_keys WHERE org_id = @orgId ORDER BY created_at DESC, id", new { orgId }, tx)).Select(k => ApiKeyView.From(k, now)).ToList(), ct);
    }

    public async Task<ApiKeyView?> GetAsync(string orgId, string id, CancellationToken ct)
    {
        var now = Now;
        var row = await db.InOrgAsync(orgId, (c, tx) => GetRowAsync(c, tx, orgId, id), ct);
        return row is null ? null : ApiKeyView.From(row, now);
    }

    private enum Change { NotFound, Forbidden, Unchanged, Done }

    /// <summary>Revokes every secret of the key at once and records an <c>api_key</c> revocation for edges. Idempotent.</summary>
    public async Task<Result<ApiKeyView>> RevokeAsync(Caller caller, string id, CancellationToken ct)
    {
        var now = Now;
        var (change, row) = await db.InOrgAsync<(Change, ApiKeyRow?)>(caller.OrgId, async (c, tx) =>
        {
            var k = await LockRowAsync(c, tx, caller.OrgId, id);
            if (k is null) return (Change.NotFound, null);
            if (k.CreatedBy != caller.UserId && !caller.IsAdmin) return (Change.Forbidden, k);
            if (k.RevokedAt is not null) return (Change.Unchanged, k);
            await c.ExecuteAsync("UPDATE api_keys SET revoked_at = @now, revoked_by = @by WHERE org_id = @OrgId AND id = @Id",
                new { now, by = caller.UserId, k.OrgId, k.Id }, tx);
            var skew = (long)options.Tokens.ClockSkew.TotalMilliseconds;
            await changes.AppendRevocationAsync(c, tx, k.OrgId, RevocationKind, k.Id, null, now, k.ExpiresAt is { } e ? Math.Max(e, now) + skew : Forever);
            k.RevokedAt = now;
            k.RevokedBy = caller.UserId;
            return (Change.Done, k);
        }, ct);
        switch (change)
        {
            case Change.NotFound: return Failure.NotFound("API key");
            case Change.Forbidden: return Failure.Forbidden("Only the key's creator or a mod can revoke it.");
            case Change.Done:
                Log.Revoked(logger, row!.Id, row.OrgId);
                await audit.RecordAsync(Entry(caller, AuditEvents.ApiKeyRevoked, row, new() { ["name"] = row.Name }), ct);
                break;
        }
        return ApiKeyView.From(row!, now);
    }

    /// <summary>A new secret for the same key (same id and scopes); the previous secrets stay valid for the grace period.</summary>
    public async Task<Result<ApiKeyIssued>> RotateAsync(Caller caller, string id, long? gracePeriodSeconds, CancellationToken ct)
    {
        var grace = gracePeriodSeconds ?? 0;
        if (grace is < 0 or > MaxGraceSeconds)
            return Failure.Invalid("grace_period_seconds", $"must be between 0 and {MaxGraceSeconds} (7 days).");
        var now = Now;
        var validUntil = now + grace * 1000;
        string? key = null;
        Failure? failure = null;
        var isOperator = await operators.IsOperatorAsync(caller, ct);
        var row = await db.InOrgAsync(caller.OrgId, async (c, tx) =>
        {
            var k = await LockRowAsync(c, tx, caller.OrgId, id);
            if (k is null)
            {
                failure = Failure.NotFound("API key");
                return null;
            }
            if (k.CreatedBy != caller.UserId && !caller.IsAdmin)
                failure = Failure.Forbidden("Only the key's creator or a mod can rotate it.");
            else if (k.ScopeList.Where(s => !ApiKeyScopes.CanGrant(caller, s)).ToList() is { Count: > 0 } denied)
                failure = Failure.Forbidden($"Rotating issues a new secret with the key's scopes; you do not hold: {string.Join(", ", denied)}.");
            else if (k.ScopeList.Contains(EdgeApiKeyPaths.EdgeSyncScope) && !isOperator)
                failure = Failure.Forbidden($"Only a platform operator may rotate {EdgeApiKeyPaths.EdgeSyncScope} keys.");
            else if (k.RevokedAt is not null)
                failure = Failure.Conflict("The key is revoked.");
            else if (k.IsExpired(now))
                failure = Failure.Conflict("The key has expired; create a new one.");
            if (failure is not null) return null;
            // Never extends an earlier, shorter grace of an older secret.
            await c.ExecuteAsync("""
                UPDATE api_key_secrets SET valid_until = @validUntil
                WHERE org_id = @OrgId AND key_id = @Id AND (valid_until IS NULL OR valid_until > @validUntil)
                """, new { validUntil, k.OrgId, k.Id }, tx);
            key = ApiKeyFormat.Generate(k.Environment == "live" ? ApiKeyEnvironment.Live : ApiKeyEnvironment.Test);
            await InsertSecretAsync(c, tx, k, key, now);
            k.Prefix = ApiKeyFormat.DisplayPrefix(key);
            k.RotatedAt = now;
            await c.ExecuteAsync("UPDATE api_keys SET prefix = @Prefix, rotated_at = @RotatedAt WHERE org_id = @OrgId AND id = @Id", k, tx);
            return k;
        }, ct);
        if (failure is not null) return failure;
        Log.Rotated(logger, row!.Id, row.OrgId, grace);
        await audit.RecordAsync(Entry(caller, AuditEvents.ApiKeyRotated, row, new()
        {
            ["name"] = row.Name, ["grace_period_seconds"] = grace.ToString(CultureInfo.InvariantCulture), ["previous_valid_until"] = Iso(validUntil),
        }), ct);
        return Issued(row, key!, DateTimeOffset.FromUnixTimeMilliseconds(validUntil));
    }

    /// <summary>The key a presented secret's digest belongs to, or null when unknown or a rotated secret past its grace.</summary>
    public async Task<ApiKeyRow?> FindByDigestAsync(string digest, CancellationToken ct)
    {
        var now = Now;
        // Edges serve every org: finding the org crosses the isolation boundary through an owner-run function on PostgreSQL.
        var sql = db.Dialect == Dialect.Postgres
            ? "SELECT org_id, key_id, valid_until FROM authio_api_key_by_digest(@digest)"
            : "SELECT org_id, key_id, valid_until FROM api_key_secrets WHERE digest = @digest";
        var secret = await db.GlobalAsync((c, tx) => c.QuerySingleOrDefaultAsync<ApiKeySecretRef>(sql, new { digest }, tx), ct);
        if (secret is null || secret.ValidUntil is { } v && v <= now) return null;
        return await db.InOrgAsync(secret.OrgId, (c, tx) => GetRowAsync(c, tx, secret.OrgId, secret.KeyId), ct);
    }

    /// <summary>Authenticates an edge's bearer API key: valid, live, and carrying <c>edge:sync</c>.</summary>
    public async Task<Result<EdgeCaller>> AuthenticateEdgeAsync(string? authorization, ClientInfo client, CancellationToken ct)
    {
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Reject("missing_bearer", Failure.Unauthorized("An edge:sync API key is required as the bearer credential."));
        var credential = authorization["Bearer ".Length..].Trim();
        if (!ApiKeyFormat.IsWellFormed(credential, out _))
            return Reject("malformed", Failure.Unauthorized("The API key is not valid."));
        var key = await FindByDigestAsync(DigestOf(credential), ct);
        if (key is null) return Reject("unknown", Failure.Unauthorized("The API key is not valid."));
        var now = Now;
        if (key.RevokedAt is not null)
        {
            await AuditUsedAfterRevokeAsync(key, key.Id, "edge_auth", client, ct);
            return Reject("revoked", Failure.Unauthorized("The API key has been revoked."));
        }
        if (key.IsExpired(now))
        {
            await AuditExpiredOnceAsync(key, key.Id, client, ct);
            return Reject("expired", Failure.Unauthorized("The API key has expired."));
        }
        if (!key.ScopeList.Contains(EdgeApiKeyPaths.EdgeSyncScope))
            return Reject("missing_scope", Failure.Forbidden($"The API key lacks the {EdgeApiKeyPaths.EdgeSyncScope} scope."));
        if (!await operators.IsEdgeOrgAsync(key.OrgId, ct))
            return Reject("org_not_trusted", Failure.Forbidden("Only edge:sync keys of the operator org (or ControlPlane:ApiKeys:EdgeOrgIds) are accepted."));
        return new EdgeCaller(key.OrgId, key.Id);
    }

    private Failure Reject(string reason, Failure failure)
    {
        Log.EdgeKeyRejected(logger, reason);
        return failure;
    }

    /// <summary>What an edge needs about the key with this digest; null (404) when none. Revoked and expired keys are described and audited.</summary>
    public async Task<ApiKeyRecord?> LookupAsync(EdgeCaller edge, string digest, ClientInfo client, CancellationToken ct)
    {
        var key = await FindByDigestAsync(digest, ct);
        if (key is null) return null;
        if (key.RevokedAt is not null) await AuditUsedAfterRevokeAsync(key, edge.KeyId, "edge_lookup", client, ct);
        else if (key.IsExpired(Now)) await AuditExpiredOnceAsync(key, edge.KeyId, client, ct);
        return new ApiKeyRecord(key.Id, key.OrgId, key.ScopeList, key.Environment,
            key.ExpiresAt is { } e ? DateTimeOffset.FromUnixTimeMilliseconds(e) : null, key.RevokedAt is not null);
    }

    /// <summary>Adds reported counts and keeps the latest use (never later than now). Unknown ids are ignored.</summary>
    public async Task<int> ReportUsageAsync(IReadOnlyList<ApiKeyUsage> usage, CancellationToken ct)
    {
        var now = Now;
        var ids = usage.Select(u => u.Id).Distinct(StringComparer.Ordinal).ToList();
        var sql = db.Dialect == Dialect.Postgres ? "SELECT authio_api_key_org(@id)" : "SELECT org_id FROM api_keys WHERE id = @id";
        var orgOf = await db.GlobalAsync(async (c, tx) =>
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var id in ids)
                if (await c.ExecuteScalarAsync<string?>(sql, new { id }, tx) is { } org) map[id] = org;
            return map;
        }, ct);
        var updated = 0;
        foreach (var group in usage.Where(u => orgOf.ContainsKey(u.Id)).GroupBy(u => orgOf[u.Id], StringComparer.Ordinal))
        {
            updated += await db.InOrgAsync(group.Key, async (c, tx) =>
            {
                var n = 0;
                foreach (var u in group)
                    n += await c.ExecuteAsync("""
                        UPDATE api_keys SET use_count = use_count + @count,
                          last_used_at = CASE WHEN @last IS NULL THEN last_used_at
                            WHEN last_used_at IS NULL OR last_used_at < @last THEN @last ELSE last_used_at END
                        WHERE org_id = @orgId AND id = @id
                        """, new { count = u.Count, last = LastUse(u, now), orgId = group.Key, id = u.Id }, tx);
                return n;
            }, ct);
        }
        return updated;
    }

    /// <summary>A report's last use, never in the future; null when the edge sent none.</summary>
    private static long? LastUse(ApiKeyUsage u, long now) => u.LastUsedAt == default ? null : Math.Min(u.LastUsedAt.ToUnixTimeMilliseconds(), now);

    private async Task AuditUsedAfterRevokeAsync(ApiKeyRow key, string actorKeyId, string via, ClientInfo client, CancellationToken ct)
    {
        // Whoever holds a revoked key could otherwise write audit events at will: at most one per key and window.
        var now = Now;
        var windowMs = (long)UsedAfterRevokeAuditWindow.TotalMilliseconds;
        if (_usedAfterRevoke.TryGetValue(key.Id, out var last) && now - last < windowMs) return;
        _usedAfterRevoke[key.Id] = now;
        Log.UsedAfterRevoke(logger, key.Id, key.OrgId, via);
        await audit.RecordAsync(new AuditEntry(key.OrgId, AuditEvents.ApiKeyUsedAfterRevoke, "failure")
        {
            ActorId = actorKeyId, Ip = client.Ip, UserAgent = client.UserAgent,
            Details = new() { ["key_id"] = key.Id, ["prefix"] = key.Prefix, ["via"] = via, ["revoked_at"] = Iso(key.RevokedAt) },
        }, ct);
    }

    /// <summary>Audits a key's expiry the first time anyone presents or looks it up afterwards; later sightings are not repeated.</summary>
    private async Task AuditExpiredOnceAsync(ApiKeyRow key, string actorKeyId, ClientInfo client, CancellationToken ct)
    {
        var first = await db.InOrgAsync(key.OrgId, (c, tx) => c.ExecuteAsync(
            "UPDATE api_keys SET expiry_audited = 1 WHERE org_id = @OrgId AND id = @Id AND expiry_audited = 0", key, tx), ct) == 1;
        if (!first) return;
        Log.Expired(logger, key.Id, key.OrgId);
        await audit.RecordAsync(new AuditEntry(key.OrgId, AuditEvents.ApiKeyExpired, "failure")
        {
            ActorId = actorKeyId, Ip = client.Ip, UserAgent = client.UserAgent,
            Details = new() { ["key_id"] = key.Id, ["prefix"] = key.Prefix, ["expires_at"] = Iso(key.ExpiresAt) },
        }, ct);
    }

    /// <summary>
    /// Reads the key after a no-op write on its row, so concurrent rotations and revocations of one key run one after
    /// the other (PostgreSQL row lock; SQLite write lock taken up front) and each sees the other's secrets.
    /// </summary>
    private static async Task<ApiKeyRow?> LockRowAsync(DbConnection c, DbTransaction tx, string orgId, string id)
    {
        await c.ExecuteAsync("UPDATE api_keys SET use_count = use_count WHERE org_id = @orgId AND id = @id", new { orgId, id }, tx);
        return await GetRowAsync(c, tx, orgId, id);
    }

    private static Task<ApiKeyRow?> GetRowAsync(DbConnection c, DbTransaction tx, string orgId, string id) =>
        c.QuerySingleOrDefaultAsync<ApiKeyRow>("SELECT * FROM api_keys WHERE org_id = @orgId AND id = @id", new { orgId, id }, tx);

    private static Task InsertSecretAsync(DbConnection c, DbTransaction tx, ApiKeyRow k, string key, long now) =>
        c.ExecuteAsync("INSERT INTO api_key_secrets (digest, org_id, key_id, created_at) VALUES (@digest, @orgId, @keyId, @now)",
            new { digest = DigestOf(key), orgId = k.OrgId, keyId = k.Id, now }, tx);

    private static AuditEntry Entry(Caller caller, string ev, ApiKeyRow k, Dictionary<string, string?> details)
    {
        details["key_id"] = k.Id;
        details["prefix"] = k.Prefix;
        return new AuditEntry(caller.OrgId, ev)
        {
            ActorId = caller.UserId, SessionId = caller.SessionId, Ip = caller.Client.Ip, UserAgent = caller.Client.UserAgent, Details = details,
        };
    }

    private static ApiKeyIssued Issued(ApiKeyRow k, string key, DateTimeOffset? previousValidUntil) => new(k.Id, k.Name, k.Prefix, k.ScopeList,
        k.Environment, k.ProjectId, k.ExpiresAt is { } e ? DateTimeOffset.FromUnixTimeMilliseconds(e) : null,
        DateTimeOffset.FromUnixTimeMilliseconds(k.CreatedAt), key, previousValidUntil);

    private static string? Iso(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v).ToString("O", CultureInfo.InvariantCulture) : null;
}
