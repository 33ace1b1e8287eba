using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Orgs;
using Authio.Shared.ApiKeys;

namespace Authio.ControlPlane.ApiKeys;

/// <summary>
/// What edges ask about API keys: authenticating an edge's own <c>edge:sync</c> key, looking a presented key up by its
/// digest, and adding the use counts edges report. Revoked and expired keys presented anywhere are audited, each at most
/// once per window (revoked) or once ever (expired). Never sees a secret: edges send digests.
/// </summary>
internal sealed partial class ApiKeyLookupService(ApiKeyStore store, AuditLog audit, TimeProvider time, PlatformOperators operators,
    ILogger<ApiKeyLookupService> logger)
{
    public const int MaxUsageEntries = 10_000;

    /// <summary>Repeated uses of one revoked key within this window are audited (and logged) once.</summary>
    public static readonly TimeSpan UsedAfterRevokeAuditWindow = TimeSpan.FromMinutes(1);

    /// <summary>Revoked keys tracked for <see cref="UsedAfterRevokeAuditWindow"/> at once; see <see cref="AuditThrottle"/>.</summary>
    public const int MaxTrackedRevokedKeys = 4096;

    private readonly AuditThrottle _usedAfterRevoke = new(MaxTrackedRevokedKeys);

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The key a presented secret's digest belongs to, or null when unknown or a rotated secret past its grace.</summary>
    public async Task<ApiKeyRow?> FindByDigestAsync(string digest, CancellationToken ct) => (await FindWithSecretAsync(digest, ct)).Key;

    /// <summary><see cref="FindByDigestAsync"/>, with when the presented secret stops working (a rotated one: its grace end).</summary>
    private async Task<(ApiKeyRow? Key, long? SecretValidUntil)> FindWithSecretAsync(string digest, CancellationToken ct)
    {
        var now = Now;
        // Edges serve every org: finding the org crosses the isolation boundary (see ApiKeyStore.FindSecretAsync).
        var secret = await store.FindSecretAsync(digest, ct);
        if (secret is null || secret.ValidUntil is { } v && v <= now)
        {
            return (null, null);
        }

        return (await store.GetAsync(secret.OrgId, secret.KeyId, ct), secret.ValidUntil);
    }

    /// <summary>Authenticates an edge's bearer API key: valid, live, and carrying <c>edge:sync</c>.</summary>
    public async Task<Result<EdgeCaller>> AuthenticateEdgeAsync(string? authorization, ClientInfo client, CancellationToken ct)
    {
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Reject("missing_bearer", Failure.Unauthorized("An edge:sync API key is required as the bearer credential."));
        }

        var credential = authorization["Bearer ".Length..].Trim();
        if (!ApiKeyFormat.IsWellFormed(credential, out _))
        {
            return Reject("malformed", Failure.Unauthorized("The API key is not valid."));
        }

        var key = await FindByDigestAsync(ApiKeyStore.DigestOf(credential), ct);
        if (key is null)
        {
            return Reject("unknown", Failure.Unauthorized("The API key is not valid."));
        }

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
        {
            return Reject("missing_scope", Failure.Forbidden($"The API key lacks the {EdgeApiKeyPaths.EdgeSyncScope} scope."));
        }

        if (!await operators.IsEdgeOrgAsync(key.OrgId, ct))
        {
            return Reject("org_not_trusted", Failure.Forbidden("Only edge:sync keys of the operator org (or ControlPlane:ApiKeys:EdgeOrgIds) are accepted."));
        }

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
        var (key, secretValidUntil) = await FindWithSecretAsync(digest, ct);
        if (key is null)
        {
            return null;
        }

        if (key.RevokedAt is not null)
        {
            await AuditUsedAfterRevokeAsync(key, edge.KeyId, "edge_lookup", client, ct);
        }
        else if (key.IsExpired(Now))
        {
            await AuditExpiredOnceAsync(key, edge.KeyId, client, ct);
        }

        // A rotated secret ends at its grace: the edge enforces that itself (its record may be cached for minutes).
        var expiresAt = key.ExpiresAt is { } e && secretValidUntil is { } s ? Math.Min(e, s) : key.ExpiresAt ?? secretValidUntil;
        return new ApiKeyRecord(key.Id, key.OrgId, key.ScopeList, key.Environment,
            expiresAt is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null, key.RevokedAt is not null);
    }

    /// <summary>Adds reported counts and keeps the latest use (never later than now). Unknown ids are ignored.</summary>
    public async Task<int> ReportUsageAsync(IReadOnlyList<ApiKeyUsage> usage, CancellationToken ct)
    {
        var now = Now;
        var ids = usage.Select(u => u.Id).Distinct(StringComparer.Ordinal).ToList();
        var orgOf = await store.OrgsOfAsync(ids, ct);
        var updated = 0;
        foreach (var group in usage.Where(u => orgOf.ContainsKey(u.Id)).GroupBy(u => orgOf[u.Id], StringComparer.Ordinal))
        {
            updated += await store.AddUsageAsync(group.Key, group.Select(u => (u.Id, u.Count, LastUse(u, now))), ct);
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
        if (!_usedAfterRevoke.TryClaim(key.Id, now, windowMs))
        {
            return;
        }

        Log.UsedAfterRevoke(logger, key.Id, key.OrgId, via);
        await audit.RecordAsync(new AuditEntry(key.OrgId, AuditEvents.ApiKeyUsedAfterRevoke, "failure")
        {
            ActorId = actorKeyId, Ip = client.Ip, UserAgent = client.UserAgent,
            Details = new() { ["key_id"] = key.Id, ["prefix"] = key.Prefix, ["via"] = via, ["revoked_at"] = ApiKeyAdminService.Iso(key.RevokedAt) },
        }, ct);
    }

    /// <summary>Audits a key's expiry the first time anyone presents or looks it up afterwards; later sightings are not repeated.</summary>
    private async Task AuditExpiredOnceAsync(ApiKeyRow key, string actorKeyId, ClientInfo client, CancellationToken ct)
    {
        if (!await store.MarkExpiryAuditedAsync(key, ct))
        {
            return;
        }

        Log.Expired(logger, key.Id, key.OrgId);
        await audit.RecordAsync(new AuditEntry(key.OrgId, AuditEvents.ApiKeyExpired, "failure")
        {
            ActorId = actorKeyId, Ip = client.Ip, UserAgent = client.UserAgent,
            Details = new() { ["key_id"] = key.Id, ["prefix"] = key.Prefix, ["expires_at"] = ApiKeyAdminService.Iso(key.ExpiresAt) },
        }, ct);
    }
}
