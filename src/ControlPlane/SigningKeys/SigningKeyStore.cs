using System.Collections.Concurrent;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text.Json;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Storage;
using Authio.Shared.Sync;
using Dapper;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.SigningKeys;

/// <summary>A published key that may verify a token: the key and the org whose tokens it signs (null: a legacy key).</summary>
internal sealed record VerificationKey(SecurityKey Key, string? OrgId);

/// <summary>
/// ES256 signing keys, one ring per org (pending → active → verifying → retired, or revoked): generation, envelope-sealed
/// storage (private keys under the org's data key, data keys under the master key), rotation with overlap and per-org
/// limits, revocation. Keys without an org (from before per-org rings) only verify until their retirement, which
/// <see cref="PrepareAsync"/> schedules.
/// </summary>
internal sealed partial class SigningKeyStore(Db db, KeySealer sealer, ControlPlaneOptions options, TimeProvider time, AuditLog audit,
    EdgeChangeStore changes, ILogger<SigningKeyStore> logger)
{
    private readonly ConcurrentDictionary<string, ECDsaSecurityKey> _private = new();
    private readonly ConcurrentDictionary<string, ECDsaSecurityKey> _public = new();
    private readonly SemaphoreSlim _rotation = new(1, 1);

    // Arbitrary constant: serialises key creation across instances sharing one PostgreSQL.
    private const long RotationLockId = 0x4175746B6579;
    private const long HourMs = 3_600_000;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private long OverlapMs => (long)(options.Tokens.MaxAccessTokenTtl + options.Tokens.ClockSkew).TotalMilliseconds;

    /// <summary>Every key of every org (JWKS, maintenance).</summary>
    public Task<List<SigningKeyRow>> AllAsync(CancellationToken ct = default) =>
        db.GlobalAsync(async (c, tx) => (await c.QueryAsync<SigningKeyRow>(
            "SELECT * FROM signing_keys ORDER BY activate_at, created_at", transaction: tx)).ToList(), ct);

    private static async Task<List<SigningKeyRow>> OrgRowsAsync(DbConnection c, DbTransaction tx, string orgId) =>
        (await c.QueryAsync<SigningKeyRow>("SELECT * FROM signing_keys WHERE org_id = @orgId ORDER BY activate_at, created_at",
            new { orgId }, tx)).ToList();

    /// <summary>The org's keys with their state.</summary>
    public async Task<IReadOnlyList<(SigningKeyRow Key, string State)>> ListAsync(string orgId, CancellationToken ct = default)
    {
        var keys = await db.GlobalAsync((c, tx) => OrgRowsAsync(c, tx, orgId), ct);
        var states = KeyStates.Compute(keys, Now);
        return keys.Select(k => (k, states[k.Kid])).ToList();
    }

    /// <summary>The org a key belongs to (null: no org), or not found.</summary>
    public async Task<(bool Found, string? OrgId)> OwnerAsync(string kid, CancellationToken ct = default)
    {
        var row = await db.GlobalAsync((c, tx) => c.QuerySingleOrDefaultAsync<SigningKeyRow>(
            "SELECT * FROM signing_keys WHERE kid = @kid", new { kid }, tx), ct);
        return row is null ? (false, null) : (true, row.OrgId);
    }

    /// <summary>Keys in JWKS, every org's: pending, active and still-verifying ones.</summary>
    public async Task<IReadOnlyList<SigningKeyRow>> PublishedAsync(CancellationToken ct = default)
    {
        var keys = await AllAsync(ct);
        var states = KeyStates.ComputePerOrg(keys, Now);
        return keys.Where(k => KeyStates.IsPublished(states[k.Kid])).ToList();
    }

    /// <summary>The published key named <paramref name="kid"/> and its org, or null when it is unknown, retired or revoked.</summary>
    public async Task<VerificationKey?> VerificationKeyAsync(string kid, CancellationToken ct = default)
    {
        if (kid.Length is 0 or > 64)
        {
            return null;
        }

        var row = await db.GlobalAsync((c, tx) => c.QuerySingleOrDefaultAsync<SigningKeyRow>(
            "SELECT * FROM signing_keys WHERE kid = @kid", new { kid }, tx), ct);
        // Pending, active and verifying keys are published; only revocation and retirement take a key out.
        if (row is null || row.RevokedAt is not null || (row.RetireAt is { } r && Now >= r))
        {
            return null;
        }

        return new VerificationKey(_public.GetOrAdd(row.Kid, _ => PublicKey(row)), row.OrgId);
    }

    /// <summary>The org's active key; the org gets its first key here if it has none (e.g. an org created before per-org keys).</summary>
    public async Task<SigningCredentials> SigningCredentialsAsync(string orgId, CancellationToken ct = default)
    {
        var active = (await ListAsync(orgId, ct)).FirstOrDefault(k => k.State == KeyStates.Active).Key;
        if (active is null)
        {
            await EnsureSignerAsync(orgId, null, ct);
            active = (await ListAsync(orgId, ct)).First(k => k.State == KeyStates.Active).Key;
        }
        if (!_private.TryGetValue(active.Kid, out var key))
        {
            key = await PrivateKeyAsync(active, ct);
            _private.TryAdd(active.Kid, key);
        }
        return new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256);
    }

    /// <summary>Makes sure the org has a key that signs right now (org creation, start-up, after revocations).</summary>
    public async Task EnsureSignerAsync(string orgId, string? actorId, CancellationToken ct = default) =>
        await RotateCoreAsync(orgId, immediate: true, actorId, (keys, now) => KeyStates.Compute(keys, now).ContainsValue(KeyStates.Active) ? Skip : null, ct);

    /// <summary>
    /// Starts a rotation of the org's ring (the new key is published now and signs after <c>PrePublish</c>). Refused with
    /// 429 beyond <c>MaxRotationsPerHour</c> keys created in the org in the last hour, and with 409 when the org already
    /// publishes <c>MaxPublishedPerOrg</c> keys.
    /// </summary>
    public async Task<Result<SigningKeyRow>> RotateAsync(string orgId, string? actorId, CancellationToken ct = default)
    {
        Failure? refusal = null;
        var row = await RotateCoreAsync(orgId, immediate: false, actorId, (keys, now) => refusal = RotationRefusal(keys, now), ct);
        if (row is not null)
        {
            return row;
        }

        if (refusal?.Status == 429)
        {
            Log.RotationRateLimited(logger, orgId);
        }
        else
        {
            Log.PublishedBoundReached(logger, orgId, options.SigningKeys.MaxPublishedPerOrg);
        }

        return refusal!;
    }

    private static readonly Failure Skip = Failure.Conflict("skipped");

    private Failure? RotationRefusal(IReadOnlyList<SigningKeyRow> keys, long now)
    {
        var recent = keys.Where(k => k.CreatedAt > now - HourMs).Select(k => k.CreatedAt).ToList();
        if (recent.Count >= options.SigningKeys.MaxRotationsPerHour)
        {
            // The oldest key inside the window leaves it first: then one more may be created.
            var retryAfterMs = recent.Min() + HourMs - now;
            return Failure.TooManyRequests($"At most {options.SigningKeys.MaxRotationsPerHour} signing keys may be created per org per hour.",
                (int)Math.Max(1, (retryAfterMs + 999) / 1000));
        }
        var states = KeyStates.Compute(keys, now);
        if (states.Values.Count(KeyStates.IsPublished) >= options.SigningKeys.MaxPublishedPerOrg)
        {
            return Failure.Conflict($"The org already publishes {options.SigningKeys.MaxPublishedPerOrg} signing keys (the most allowed); " +
                "rotate again once a rotated-out key has retired, or revoke one.");
        }

        return null;
    }

    /// <summary>
    /// Creates a key in <paramref name="orgId"/>'s ring unless <paramref name="refuse"/> (evaluated on the org's keys inside
    /// the locked transaction, so several instances starting or rotating at once create one key, not several) says why not.
    /// </summary>
    private async Task<SigningKeyRow?> RotateCoreAsync(string orgId, bool immediate, string? actorId,
        Func<IReadOnlyList<SigningKeyRow>, long, Failure?>? refuse, CancellationToken ct)
    {
        await _rotation.WaitAsync(ct);
        try
        {
            var now = Now;
            var activateAt = immediate ? now : now + (long)options.SigningKeys.PrePublish.TotalMilliseconds;
            // Old keys keep verifying until every token they could still sign has expired.
            var retireAt = activateAt + OverlapMs;
            // In the org's transaction: its data key is only readable there (row-level security on PostgreSQL).
            var created = await db.InOrgAsync<(SigningKeyRow Row, List<string> Olds)?>(orgId, async (c, tx) =>
            {
                if (db.Dialect == Dialect.Postgres)
                {
                    await c.ExecuteAsync("SELECT pg_advisory_xact_lock(@id)", new { id = RotationLockId }, tx);
                }

                if (refuse is not null && refuse(await OrgRowsAsync(c, tx, orgId), now) is not null)
                {
                    return null;
                }

                var dataKey = await DataKeyAsync(c, tx, orgId, create: true, ct);
                var row = NewKey(orgId, dataKey, now, activateAt);
                var olds = (await c.QueryAsync<string>(
                    "SELECT kid FROM signing_keys WHERE org_id = @orgId AND revoked_at IS NULL AND retire_at IS NULL AND activate_at <= @activateAt",
                    new { orgId, activateAt }, tx)).ToList();
                await c.ExecuteAsync("""
                    UPDATE signing_keys SET retire_at = @retireAt
                    WHERE org_id = @orgId AND revoked_at IS NULL AND retire_at IS NULL AND activate_at <= @activateAt
                    """, new { retireAt, orgId, activateAt }, tx);
                await c.ExecuteAsync("""
                    INSERT INTO signing_keys (kid, org_id, created_at, activate_at, retire_at, revoked_at, x, y, sealed_private)
                    VALUES (@Kid, @OrgId, @CreatedAt, @ActivateAt, NULL, NULL, @X, @Y, @SealedPrivate)
                    """, row, tx);
                return (Row: row, Olds: olds);
            }, ct);
            if (created is not { } done)
            {
                return null;
            }

            await RecordOrgKeysChangeAsync(orgId, ct);
            Log.KeyCreated(logger, done.Row.Kid, orgId, DateTimeOffset.FromUnixTimeMilliseconds(activateAt));
            await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.SigningKeyCreated)
            {
                ActorId = actorId,
                Details = new() { ["kid"] = done.Row.Kid, ["activate_at"] = Iso(activateAt), ["immediate"] = immediate ? "true" : "false" },
            }, ct);
            foreach (var old in done.Olds)
            {
                await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.SigningKeyRetirementScheduled)
                {
                    ActorId = actorId,
                    Details = new() { ["kid"] = old, ["stops_signing_at"] = Iso(activateAt), ["retire_at"] = Iso(retireAt) },
                }, ct);
            }
            return done.Row;
        }
        finally
        {
            _rotation.Release();
        }
    }

    /// <summary>
    /// Removes one of the caller's org keys from JWKS at once; if it was signing (or about to), a new key of that org signs
    /// immediately. A revocation removes one published key and adds at most one, so it can never grow the org's published
    /// set; it is not subject to the rotation limit (the emergency brake always works). Another org's kid: 403.
    /// </summary>
    public async Task<Result<string>> RevokeAsync(string orgId, string kid, string? actorId, CancellationToken ct = default)
    {
        var (found, owner) = await OwnerAsync(kid, ct);
        if (!found)
        {
            return Failure.NotFound("Signing key");
        }

        if (owner != orgId)
        {
            return Failure.Forbidden("This signing key belongs to another org.");
        }

        var before = (await ListAsync(orgId, ct)).First(k => k.Key.Kid == kid);
        if (before.State is KeyStates.Revoked)
        {
            return kid;
        }

        var now = Now;
        // Every token the key signed was signed before now, so none is valid after now + the longest lifetime + skew.
        var lastValid = now + OverlapMs;
        await db.GlobalAsync(async (c, tx) =>
        {
            if (await c.ExecuteAsync("UPDATE signing_keys SET revoked_at = @now WHERE kid = @kid AND org_id = @orgId AND revoked_at IS NULL",
                    new { now, kid, orgId }, tx) == 1)
            {
                await changes.AppendGlobalRevocationAsync(c, tx, RevocationKinds.SigningKey, kid, now, lastValid);
            }

            return 0;
        }, ct);
        _public.TryRemove(kid, out _);
        _private.TryRemove(kid, out _);
        Log.KeyRevoked(logger, kid, orgId);
        await RecordOrgKeysChangeAsync(orgId, ct);
        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.SigningKeyRevoked) { ActorId = actorId, Details = new() { ["kid"] = kid } }, ct);
        if (before.State is KeyStates.Active or KeyStates.Pending)
        {
            await RotateCoreAsync(orgId, immediate: true, actorId, null, ct);
        }

        return kid;
    }

    /// <summary>
    /// Replaces the org's data key and re-seals every private key of the org under the new one, in one transaction.
    /// Returns the number of keys re-sealed.
    /// </summary>
    public async Task<int> RotateDataKeyAsync(string orgId, string? actorId, CancellationToken ct = default)
    {
        await _rotation.WaitAsync(ct);
        int count;
        try
        {
            count = await db.InOrgAsync(orgId, async (c, tx) =>
            {
                if (db.Dialect == Dialect.Postgres)
                {
                    await c.ExecuteAsync("SELECT pg_advisory_xact_lock(@id)", new { id = RotationLockId }, tx);
                }

                var old = await DataKeyAsync(c, tx, orgId, create: true, ct);
                var fresh = RandomNumberGenerator.GetBytes(32);
                var rows = await OrgRowsAsync(c, tx, orgId);
                foreach (var row in rows)
                {
                    var plain = KeySealer.UnsealOrgKey(old, orgId, row.Kid, row.SealedPrivate);
                    try
                    {
                        await c.ExecuteAsync("UPDATE signing_keys SET sealed_private = @sealedValue WHERE kid = @kid",
                            new { sealedValue = KeySealer.SealOrgKey(fresh, orgId, row.Kid, plain), kid = row.Kid }, tx);
                    }
                    finally
                    {
                        CryptographicOperations.ZeroMemory(plain);
                    }
                }
                await c.ExecuteAsync("UPDATE org_data_keys SET sealed_key = @sealedKey, rotated_at = @now WHERE org_id = @orgId",
                    new { sealedKey = sealer.SealDataKey(orgId, fresh), now = Now, orgId }, tx);
                return rows.Count;
            }, ct);
        }
        finally
        {
            _rotation.Release();
        }
        // Cached private keys are unchanged material, but drop them so the next signature proves the new seal opens.
        foreach (var row in await ListAsync(orgId, ct))
        {
            _private.TryRemove(row.Key.Kid, out _);
        }

        Log.DataKeyRotated(logger, orgId, count);
        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.SigningDataKeyRotated)
        {
            ActorId = actorId, Details = new() { ["resealed_keys"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        }, ct);
        return count;
    }

    /// <summary>The JWKS document of <paramref name="published"/> keys; each key names its org (<c>org</c>) when it has one.</summary>
    public static JwkSet JwksOf(IEnumerable<SigningKeyRow> published) =>
        new(published.Select(k => new Jwk("EC", "P-256", k.X, k.Y, k.Kid, SecurityAlgorithms.EcdsaSha256, "sig", k.OrgId)).ToList());

    /// <summary>Logs the org's published keys to the edge change log when they differ from the last logged set (rotation, revocation).</summary>
    private Task<int> RecordOrgKeysChangeAsync(string orgId, CancellationToken ct) =>
        db.GlobalAsync((c, tx) => changes.AppendOrgKeysIfChangedAsync(c, tx, async () =>
        {
            var keys = await OrgRowsAsync(c, tx, orgId);
            var states = KeyStates.Compute(keys, Now);
            return new Dictionary<string, string>
            {
                [orgId] = JsonSerializer.Serialize(JwksOf(keys.Where(k => KeyStates.IsPublished(states[k.Kid])))),
            };
        }, onlyListed: true), ct);

    /// <summary>
    /// Logs every org's published keys (and the keys without an org) whose set differs from the last logged one: at
    /// start-up and from the maintenance job, for time-driven activations and retirements.
    /// </summary>
    public Task<int> RecordJwksChangeAsync(CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => changes.AppendOrgKeysIfChangedAsync(c, tx, async () =>
        {
            var keys = (await c.QueryAsync<SigningKeyRow>("SELECT * FROM signing_keys ORDER BY activate_at, created_at", transaction: tx)).ToList();
            var states = KeyStates.ComputePerOrg(keys, Now);
            return keys.Where(k => KeyStates.IsPublished(states[k.Kid])).GroupBy(k => k.OrgId ?? EdgeChangeStore.LegacyGroup)
                .ToDictionary(g => g.Key, g => JsonSerializer.Serialize(JwksOf(g)), StringComparer.Ordinal);
        }), ct);

    /// <summary>
    /// Start-up: every org gets a signing key of its own, keys without an org (from before per-org rings) stop signing and
    /// are scheduled to retire once the tokens they signed have expired, and the edge feed learns every org's keys.
    /// </summary>
    public async Task PrepareAsync(CancellationToken ct = default)
    {
        foreach (var orgId in await OrgIdsAsync(ct))
        {
            await EnsureSignerAsync(orgId, null, ct);
        }

        var retireAt = Now + OverlapMs;
        var retiring = await db.GlobalAsync((c, tx) => c.ExecuteAsync(
            "UPDATE signing_keys SET retire_at = @retireAt WHERE org_id IS NULL AND revoked_at IS NULL AND (retire_at IS NULL OR retire_at > @retireAt)",
            new { retireAt }, tx), ct);
        if (retiring > 0)
        {
            Log.LegacyKeysRetiring(logger, retiring, DateTimeOffset.FromUnixTimeMilliseconds(retireAt));
        }

        await RecordJwksChangeAsync(ct);
    }

    private Task<List<string>> OrgIdsAsync(CancellationToken ct) =>
        db.GlobalAsync(async (c, tx) => (await c.QueryAsync<string>("SELECT id FROM orgs ORDER BY id", transaction: tx)).ToList(), ct);

    /// <summary>
    /// Scheduled rotation, per org: a new key once the org's signing key is older than the interval, none is pending and
    /// the org is below its published bound; an org without a signing key gets one. Returns how many keys were created.
    /// </summary>
    public async Task<int> RotateIfDueAsync(CancellationToken ct = default)
    {
        var interval = (long)options.SigningKeys.RotationInterval.TotalMilliseconds;
        var now = Now;
        var rings = (await AllAsync(ct)).Where(k => k.OrgId is not null).GroupBy(k => k.OrgId!).ToDictionary(g => g.Key, g => g.ToList());
        var created = 0;
        foreach (var orgId in await OrgIdsAsync(ct))
        {
            // Each org on its own: one org's failure (a key that will not unseal, a lock timeout) must not stop the others'.
            try
            {
                if (!rings.TryGetValue(orgId, out var ring) || !KeyStates.Compute(ring, now).ContainsValue(KeyStates.Active))
                {
                    await EnsureSignerAsync(orgId, null, ct);
                    created++;
                    continue;
                }
                if (!Due(ring, now))
                {
                    continue;
                }

                if (await RotateCoreAsync(orgId, immediate: false, null, (keys, at) => !Due(keys, at) ? Skip
                        : KeyStates.Compute(keys, at).Values.Count(KeyStates.IsPublished) >= options.SigningKeys.MaxPublishedPerOrg ? Skip : null, ct) is not null)
                {
                    created++;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.RotationFailed(logger, orgId, ex);
            }
        }
        return created;

        bool Due(IReadOnlyList<SigningKeyRow> keys, long at)
        {
            var states = KeyStates.Compute(keys, at);
            if (states.ContainsValue(KeyStates.Pending))
            {
                return false;
            }

            var active = keys.FirstOrDefault(k => states[k.Kid] == KeyStates.Active);
            return active is not null && at - active.ActivateAt >= interval;
        }
    }

    /// <summary>
    /// Audits the time-driven steps of rotation (a key starts signing, a key leaves JWKS) once each, in the key's org
    /// (the system chain for keys without an org); the flag update makes this safe with several instances.
    /// </summary>
    public async Task<int> RecordTransitionsAsync(CancellationToken ct = default)
    {
        var now = Now;
        var keys = await AllAsync(ct);
        var states = KeyStates.ComputePerOrg(keys, now);
        var recorded = 0;
        foreach (var k in keys)
        {
            var auditOrg = k.OrgId ?? AuditLog.SystemOrg;
            if (k.ActivationAudited == 0 && k.ActivateAt <= now && states[k.Kid] != KeyStates.Revoked &&
                await MarkAsync("activation_audited", k.Kid, ct))
            {
                await audit.RecordAsync(new AuditEntry(auditOrg, AuditEvents.SigningKeyActivated) { Details = new() { ["kid"] = k.Kid } }, ct);
                recorded++;
            }
            if (k.RetirementAudited == 0 && states[k.Kid] == KeyStates.Retired && await MarkAsync("retirement_audited", k.Kid, ct))
            {
                await audit.RecordAsync(new AuditEntry(auditOrg, AuditEvents.SigningKeyRetired) { Details = new() { ["kid"] = k.Kid } }, ct);
                recorded++;
            }
        }
        return recorded;
    }

    private Task<bool> MarkAsync(string column, string kid, CancellationToken ct) =>
        db.GlobalAsync(async (c, tx) => await c.ExecuteAsync($"UPDATE signing_keys SET {column} = 1 WHERE kid = @kid AND {column} = 0", new { kid }, tx) == 1, ct);

    /// <summary>The org's data key (unsealed); created and stored sealed under the master key when the org has none yet.</summary>
    private async Task<byte[]> DataKeyAsync(DbConnection c, DbTransaction tx, string orgId, bool create, CancellationToken ct)
    {
        var sealedKey = await c.QuerySingleOrDefaultAsync<string?>("SELECT sealed_key FROM org_data_keys WHERE org_id = @orgId", new { orgId }, tx);
        if (sealedKey is not null)
        {
            return sealer.UnsealDataKey(orgId, sealedKey);
        }

        if (!create)
        {
            throw new InvalidOperationException("The org has no data key.");
        }

        ct.ThrowIfCancellationRequested();
        var key = RandomNumberGenerator.GetBytes(32);
        await c.ExecuteAsync("INSERT INTO org_data_keys (org_id, sealed_key, created_at) VALUES (@orgId, @sealedKey, @now)",
            new { orgId, sealedKey = sealer.SealDataKey(orgId, key), now = Now }, tx);
        return key;
    }

    private SigningKeyRow NewKey(string orgId, byte[] dataKey, long now, long activateAt)
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = ec.ExportParameters(includePrivateParameters: false);
        var kid = "k_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var pkcs8 = ec.ExportPkcs8PrivateKey();
        try
        {
            return new SigningKeyRow
            {
                Kid = kid,
                OrgId = orgId,
                CreatedAt = now,
                ActivateAt = activateAt,
                X = Base64UrlEncoder.Encode(p.Q.X),
                Y = Base64UrlEncoder.Encode(p.Q.Y),
                SealedPrivate = KeySealer.SealOrgKey(dataKey, orgId, kid, pkcs8),
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private async Task<ECDsaSecurityKey> PrivateKeyAsync(SigningKeyRow row, CancellationToken ct)
    {
        var pkcs8 = row.OrgId is { } orgId
            ? await db.InOrgAsync(orgId, async (c, tx) => KeySealer.UnsealOrgKey(await DataKeyAsync(c, tx, orgId, create: false, ct), orgId, row.Kid, row.SealedPrivate), ct)
            : sealer.Unseal(row.Kid, row.SealedPrivate);
        try
        {
            var ec = ECDsa.Create();
            ec.ImportPkcs8PrivateKey(pkcs8, out _);
            return new ECDsaSecurityKey(ec) { KeyId = row.Kid };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private static ECDsaSecurityKey PublicKey(SigningKeyRow row)
    {
        var ec = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(row.X), Y = Base64UrlEncoder.DecodeBytes(row.Y) },
        });
        return new ECDsaSecurityKey(ec) { KeyId = row.Kid };
    }

    private static string Iso(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("O");
}
