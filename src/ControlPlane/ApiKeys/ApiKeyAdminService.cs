using System.Globalization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Orgs;
using Authio.ControlPlane.Storage;
using Authio.Shared.ApiKeys;

namespace Authio.ControlPlane.ApiKeys;

/// <summary>
/// Issuing, listing, rotating and revoking API keys (the <c>/v1/api-keys</c> admin API; the edge's lookups are
/// <see cref="ApiKeyLookupService"/>). A secret exists in clear only in the response that issues it; the store holds its
/// SHA-256 (base64url) and the display prefix. Nothing here logs or audits a secret or its digest.
/// </summary>
internal sealed partial class ApiKeyAdminService(Db db, ApiKeyStore store, AuditLog audit, ControlPlaneOptions options, TimeProvider time,
    EdgeChangeStore changes, PlatformOperators operators, ILogger<ApiKeyAdminService> logger)
{
    public const long MaxGraceSeconds = 7 * 24 * 3600;
    public const int MaxScopesPerKey = 50;
    public const string RevocationKind = "api_key";

    /// <summary>
    /// <c>revocations.expires_at</c> of a key without expiry: 9999-12-31T23:59:59.999Z, i.e. relevant until pruned by hand.
    /// A key with an expiry needs its revocation only until then (+ clock skew).
    /// </summary>
    public static readonly long Forever = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<Result<ApiKeyIssued>> CreateAsync(Caller caller, CreateApiKeyRequest body, CancellationToken ct)
    {
        var now = Now;
        var errors = new Dictionary<string, string[]>();
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100)
        {
            errors["name"] = ["must be 1 to 100 characters."];
        }

        var scopes = (body.Scopes ?? []).Select(s => s?.Trim() ?? "").Distinct(StringComparer.Ordinal).ToArray();
        if (scopes.Length == 0)
        {
            errors["scopes"] = ["must list at least one scope."];
        }
        else if (scopes.Length > MaxScopesPerKey)
        {
            errors["scopes"] = [$"must list at most {MaxScopesPerKey} scopes."];
        }

        if (body.Environment is not ("live" or "test"))
        {
            errors["environment"] = ["must be live or test."];
        }

        var expiresAt = body.ExpiresAt?.ToUnixTimeMilliseconds();
        if (expiresAt is { } e && e <= now)
        {
            errors["expires_at"] = ["must be in the future."];
        }

        if (body.ProjectId is { Length: 0 or > 100 })
        {
            errors["project_id"] = ["must be 1 to 100 characters."];
        }

        if (!errors.ContainsKey("scopes"))
        {
            var known = await db.InOrgAsync(caller.OrgId, (c, tx) => ApiKeyStore.KnownScopesAsync(c, tx, caller.OrgId, scopes), ct);
            var unknown = scopes.Where(s => !known.Contains(s)).ToList();
            if (unknown.Count > 0)
            {
                errors["scopes"] = [$"unknown scope(s): {string.Join(", ", unknown)}. See GET /v1/api-key-scopes."];
            }
        }
        if (errors.Count > 0)
        {
            return Failure.Invalid(errors);
        }

        var denied = scopes.Where(s => !ApiKeyScopes.CanGrant(caller, s)).ToList();
        if (denied.Count > 0)
        {
            return Failure.Forbidden($"You cannot grant scopes you do not hold: {string.Join(", ", denied)}.");
        }
        // An edge:sync key reads every org's keys and revocations: a platform credential, minted by operators in an edge org only.
        if (scopes.Contains(EdgeApiKeyPaths.EdgeSyncScope, StringComparer.Ordinal)
            && !(await operators.IsOperatorAsync(caller, ct) && await operators.IsEdgeOrgAsync(caller.OrgId, ct)))
        {
            return Failure.Forbidden($"Only a platform operator may create {EdgeApiKeyPaths.EdgeSyncScope} keys, in the operator org.");
        }

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
            if (member is not { Active: true } m || !scopes.All(s => RoleCanGrant(m.Role, s)))
            {
                return false;
            }

            await ApiKeyStore.InsertAsync(c, tx, row);
            await ApiKeyStore.InsertSecretAsync(c, tx, row, key, now);
            return true;
        }, ct);
        if (!stillHeld)
        {
            return Failure.Forbidden("Your role no longer allows granting these scopes.");
        }

        Log.Created(logger, row.Id, row.OrgId, row.Scopes);
        await audit.RecordAsync(Entry(caller, AuditEvents.ApiKeyCreated, row, new()
        {
            ["name"] = row.Name, ["scopes"] = row.Scopes, ["environment"] = row.Environment, ["project_id"] = row.ProjectId,
            ["expires_at"] = Iso(row.ExpiresAt),
        }), ct);
        return Issued(row, key, null);
    }

    public async Task<List<ApiKeyView>> ListAsync(string orgId, CancellationToken ct)
    {
        var now = Now;
        return (await store.ListAsync(orgId, ct)).Select(k => ApiKeyView.From(k, now)).ToList();
    }

    public async Task<ApiKeyView?> GetAsync(string orgId, string id, CancellationToken ct)
    {
        var now = Now;
        var row = await store.GetAsync(orgId, id, ct);
        return row is null ? null : ApiKeyView.From(row, now);
    }

    private enum Change { NotFound, Forbidden, Unchanged, Done }

    /// <summary>Revokes every secret of the key at once and records an <c>api_key</c> revocation for edges. Idempotent.</summary>
    public async Task<Result<ApiKeyView>> RevokeAsync(Caller caller, string id, CancellationToken ct)
    {
        var now = Now;
        var (change, row) = await db.InOrgAsync<(Change, ApiKeyRow?)>(caller.OrgId, async (c, tx) =>
        {
            var k = await ApiKeyStore.LockRowAsync(c, tx, caller.OrgId, id);
            if (k is null)
            {
                return (Change.NotFound, null);
            }

            if (k.CreatedBy != caller.UserId && !caller.IsAdmin)
            {
                return (Change.Forbidden, k);
            }

            if (k.RevokedAt is not null)
            {
                return (Change.Unchanged, k);
            }

            await ApiKeyStore.MarkRevokedAsync(c, tx, k.OrgId, k.Id, caller.UserId, now);
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
        {
            return Failure.Invalid("grace_period_seconds", $"must be between 0 and {MaxGraceSeconds} (7 days).");
        }

        var now = Now;
        var validUntil = now + grace * 1000;
        string? key = null;
        Failure? failure = null;
        var isOperator = await operators.IsOperatorAsync(caller, ct);
        var row = await db.InOrgAsync(caller.OrgId, async (c, tx) =>
        {
            var k = await ApiKeyStore.LockRowAsync(c, tx, caller.OrgId, id);
            if (k is null)
            {
                failure = Failure.NotFound("API key");
                return null;
            }
            if (k.CreatedBy != caller.UserId && !caller.IsAdmin)
            {
                failure = Failure.Forbidden("Only the key's creator or a mod can rotate it.");
            }
            else if (k.ScopeList.Where(s => !ApiKeyScopes.CanGrant(caller, s)).ToList() is { Count: > 0 } denied)
            {
                failure = Failure.Forbidden($"Rotating issues a new secret with the key's scopes; you do not hold: {string.Join(", ", denied)}.");
            }
            else if (k.ScopeList.Contains(EdgeApiKeyPaths.EdgeSyncScope) && !isOperator)
            {
                failure = Failure.Forbidden($"Only a platform operator may rotate {EdgeApiKeyPaths.EdgeSyncScope} keys.");
            }
            else if (k.RevokedAt is not null)
            {
                failure = Failure.Conflict("The key is revoked.");
            }
            else if (k.IsExpired(now))
            {
                failure = Failure.Conflict("The key has expired; create a new one.");
            }

            if (failure is not null)
            {
                return null;
            }
            // Never extends an earlier, shorter grace of an older secret.
            await ApiKeyStore.LimitSecretsAsync(c, tx, k.OrgId, k.Id, validUntil);
            key = ApiKeyFormat.Generate(k.Environment == "live" ? ApiKeyEnvironment.Live : ApiKeyEnvironment.Test);
            await ApiKeyStore.InsertSecretAsync(c, tx, k, key, now);
            k.Prefix = ApiKeyFormat.DisplayPrefix(key);
            k.RotatedAt = now;
            await ApiKeyStore.SaveRotationAsync(c, tx, k);
            // Edges cache the key's record: the push makes the earlier secrets' grace end apply without waiting for a refresh.
            await changes.AppendApiKeyChangedAsync(c, tx, k.OrgId, k.Id, now);
            return k;
        }, ct);
        if (failure is not null)
        {
            return failure;
        }

        Log.Rotated(logger, row!.Id, row.OrgId, grace);
        await audit.RecordAsync(Entry(caller, AuditEvents.ApiKeyRotated, row, new()
        {
            ["name"] = row.Name, ["grace_period_seconds"] = grace.ToString(CultureInfo.InvariantCulture), ["previous_valid_until"] = Iso(validUntil),
        }), ct);
        return Issued(row, key!, DateTimeOffset.FromUnixTimeMilliseconds(validUntil));
    }

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

    public static string? Iso(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v).ToString("O", CultureInfo.InvariantCulture) : null;
}
