using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Storage;
using Authio.Shared.Sync;
using Dapper;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.SigningKeys;

/// <summary>ES256 signing keys: generation, sealed storage, rotation with overlap, revocation.</summary>
internal sealed partial class SigningKeyStore(Db db, KeySealer sealer, ControlPlaneOptions options, TimeProvider time, AuditLog audit,
    EdgeChangeLog changes, ILogger<SigningKeyStore> logger)
{
    private readonly ConcurrentDictionary<string, ECDsaSecurityKey> _private = new();
    private readonly ConcurrentDictionary<string, ECDsaSecurityKey> _public = new();
    private readonly SemaphoreSlim _rotation = new(1, 1);

    // Arbitrary constant: serialises key creation across instances sharing one PostgreSQL.
    private const long RotationLockId = 0x4175746B6579;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public Task<List<SigningKeyRow>> AllAsync(CancellationToken ct = default) =>
        db.GlobalAsync(async (c, tx) => (await c.QueryAsync<SigningKeyRow>(
            "SELECT * FROM signing_keys ORDER BY activate_at, created_at", transaction: tx)).ToList(), ct);

    public async Task<IReadOnlyList<(SigningKeyRow Key, string State)>> ListAsync(CancellationToken ct = default)
    {
        var keys = await AllAsync(ct);
        var states = KeyStates.Compute(keys, Now);
        return keys.Select(k => (k, states[k.Kid])).ToList();
    }

    /// <summary>Keys in JWKS: pending, active and still-verifying ones.</summary>
    public async Task<IReadOnlyList<SigningKeyRow>> PublishedAsync(CancellationToken ct = default) =>
        (await ListAsync(ct)).Where(k => KeyStates.IsPublished(k.State)).Select(k => k.Key).ToList();

    public async Task<IReadOnlyList<SecurityKey>> VerificationKeysAsync(CancellationToken ct = default) =>
        (await PublishedAsync(ct)).Select(k => (SecurityKey)_public.GetOrAdd(k.Kid, _ => PublicKey(k))).ToList();

    public async Task<SigningCredentials> SigningCredentialsAsync(CancellationToken ct = default)
    {
        var active = (await ListAsync(ct)).FirstOrDefault(k => k.State == KeyStates.Active).Key;
        if (active is null)
        {
            // Only reachable if every key was revoked/retired between checks; make one rather than fail sign-in.
            await EnsureSignerAsync(AuditLog.SystemOrg, null, ct);
            active = (await ListAsync(ct)).First(k => k.State == KeyStates.Active).Key;
        }
        var key = _private.GetOrAdd(active.Kid, _ => PrivateKey(active));
        return new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256);
    }

    /// <summary>At start-up and after revocations: make sure some key can sign right now.</summary>
    public Task EnsureSignerAsync(string auditOrg, string? actorId, CancellationToken ct = default) =>
        RotateCoreAsync(immediate: true, auditOrg, actorId, (keys, now) => !KeyStates.Compute(keys, now).ContainsValue(KeyStates.Active), ct);

    /// <summary>Creates a key. Normally it waits <c>PrePublish</c> in JWKS before signing; <paramref name="immediate"/> skips that.</summary>
    public async Task<SigningKeyRow> RotateAsync(bool immediate, string auditOrg, string? actorId, CancellationToken ct = default) =>
        (await RotateCoreAsync(immediate, auditOrg, actorId, null, ct))!;

    /// <summary>
    /// Creates a key when <paramref name="onlyIf"/> (evaluated inside the locked transaction, so several instances
    /// starting or rotating at once create one key, not several) allows it.
    /// </summary>
    private async Task<SigningKeyRow?> RotateCoreAsync(bool immediate, string auditOrg, string? actorId,
        Func<IReadOnlyList<SigningKeyRow>, long, bool>? onlyIf, CancellationToken ct)
    {
        await _rotation.WaitAsync(ct);
        try
        {
            var now = Now;
            var activateAt = immediate ? now : now + (long)options.SigningKeys.PrePublish.TotalMilliseconds;
            // Old keys keep verifying until every token they could still sign has expired.
            var retireAt = activateAt + (long)(options.Tokens.MaxAccessTokenTtl + options.Tokens.ClockSkew).TotalMilliseconds;
            var row = NewKey(now, activateAt);
            var retiring = await db.GlobalAsync(async (c, tx) =>
            {
                if (db.Dialect == Dialect.Postgres) await c.ExecuteAsync("SELECT pg_advisory_xact_lock(@id)", new { id = RotationLockId }, tx);
                if (onlyIf is not null)
                {
                    var current = (await c.QueryAsync<SigningKeyRow>("SELECT * FROM signing_keys", transaction: tx)).ToList();
                    if (!onlyIf(current, now)) return null;
                }
                var olds = (await c.QueryAsync<string>(
                    "SELECT kid FROM signing_keys WHERE revoked_at IS NULL AND retire_at IS NULL AND activate_at <= @activateAt",
                    new { activateAt }, tx)).ToList();
                await c.ExecuteAsync("UPDATE signing_keys SET retire_at = @retireAt WHERE revoked_at IS NULL AND retire_at IS NULL AND activate_at <= @activateAt",
                    new { retireAt, activateAt }, tx);
                await c.ExecuteAsync("""
                    INSERT INTO signing_keys (kid, created_at, activate_at, retire_at, revoked_at, x, y, sealed_private)
                    VALUES (@Kid, @CreatedAt, @ActivateAt, NULL, NULL, @X, @Y, @SealedPrivate)
                    """, row, tx);
                return olds;
            }, ct);
            if (retiring is null) return null;
            await RecordJwksChangeAsync(ct);
            Log.KeyCreated(logger, row.Kid, DateTimeOffset.FromUnixTimeMilliseconds(activateAt));
            await audit.RecordAsync(new AuditEntry(auditOrg, AuditEvents.SigningKeyCreated)
            {
                ActorId = actorId,
                Details = new() { ["kid"] = row.Kid, ["activate_at"] = Iso(activateAt), ["immediate"] = immediate ? "true" : "false" },
            }, ct);
            foreach (var old in retiring)
            {
                await audit.RecordAsync(new AuditEntry(auditOrg, AuditEvents.SigningKeyRetirementScheduled)
                {
                    ActorId = actorId,
                    Details = new() { ["kid"] = old, ["stops_signing_at"] = Iso(activateAt), ["retire_at"] = Iso(retireAt) },
                }, ct);
            }
            return row;
        }
        finally
        {
            _rotation.Release();
        }
    }

    /// <summary>Removes a compromised key from JWKS at once. If it was signing (or about to), a new key signs immediately.</summary>
    public async Task<bool> RevokeAsync(string kid, string auditOrg, string? actorId, CancellationToken ct = default)
    {
        var before = (await ListAsync(ct)).FirstOrDefault(k => k.Key.Kid == kid);
        if (before.Key is null || before.State is KeyStates.Revoked) return before.Key is not null;
        var now = Now;
        // Every token the key signed was signed before now, so none is valid after now + the longest lifetime + skew.
        var lastValid = now + (long)(options.Tokens.MaxAccessTokenTtl + options.Tokens.ClockSkew).TotalMilliseconds;
        await db.GlobalAsync(async (c, tx) =>
        {
            if (await c.ExecuteAsync("UPDATE signing_keys SET revoked_at = @now WHERE kid = @kid AND revoked_at IS NULL", new { now, kid }, tx) == 1)
                await changes.AppendGlobalRevocationAsync(c, tx, RevocationKinds.SigningKey, kid, now, lastValid);
            return 0;
        }, ct);
        _public.TryRemove(kid, out _);
        _private.TryRemove(kid, out _);
        Log.KeyRevoked(logger, kid);
        await RecordJwksChangeAsync(ct);
        await audit.RecordAsync(new AuditEntry(auditOrg, AuditEvents.SigningKeyRevoked) { ActorId = actorId, Details = new() { ["kid"] = kid } }, ct);
        if (before.State is KeyStates.Active or KeyStates.Pending) await RotateAsync(immediate: true, auditOrg, actorId, ct);
        return true;
    }

    /// <summary>The JWKS document as published now (pending, active and verifying keys).</summary>
    public static JwkSet JwksOf(IEnumerable<SigningKeyRow> published) =>
        new(published.Select(k => new Jwk("EC", "P-256", k.X, k.Y, k.Kid, SecurityAlgorithms.EcdsaSha256, "sig")).ToList());

    /// <summary>
    /// Logs the published JWKS to the edge change log when it differs from the last logged one: after rotation and
    /// revocation, and from the maintenance job for time-driven retirements.
    /// </summary>
    public Task<bool> RecordJwksChangeAsync(CancellationToken ct = default) =>
        db.GlobalAsync((c, tx) => changes.AppendJwksIfChangedAsync(c, tx, async () =>
        {
            var keys = (await c.QueryAsync<SigningKeyRow>("SELECT * FROM signing_keys ORDER BY activate_at, created_at", transaction: tx)).ToList();
            var states = KeyStates.Compute(keys, Now);
            return JsonSerializer.Serialize(JwksOf(keys.Where(k => KeyStates.IsPublished(states[k.Kid]))));
        }), ct);

    /// <summary>Scheduled rotation: a new key once the signing one is older than the interval and none is pending.</summary>
    public async Task<bool> RotateIfDueAsync(CancellationToken ct = default)
    {
        await EnsureSignerAsync(AuditLog.SystemOrg, null, ct);
        var interval = (long)options.SigningKeys.RotationInterval.TotalMilliseconds;
        return await RotateCoreAsync(immediate: false, AuditLog.SystemOrg, null, (keys, now) =>
        {
            var states = KeyStates.Compute(keys, now);
            if (states.ContainsValue(KeyStates.Pending)) return false;
            var active = keys.FirstOrDefault(k => states[k.Kid] == KeyStates.Active);
            return active is not null && now - active.ActivateAt >= interval;
        }, ct) is not null;
    }

    /// <summary>
    /// Audits the time-driven steps of rotation (a key starts signing, a key leaves JWKS) once each, in the
    /// system chain; the flag update makes this safe with several instances.
    /// </summary>
    public async Task<int> RecordTransitionsAsync(CancellationToken ct = default)
    {
        var now = Now;
        var keys = await AllAsync(ct);
        var states = KeyStates.Compute(keys, now);
        var recorded = 0;
        foreach (var k in keys)
        {
            if (k.ActivationAudited == 0 && k.ActivateAt <= now && states[k.Kid] != KeyStates.Revoked &&
                await MarkAsync("activation_audited", k.Kid, ct))
            {
                await audit.RecordAsync(new AuditEntry(AuditLog.SystemOrg, AuditEvents.SigningKeyActivated) { Details = new() { ["kid"] = k.Kid } }, ct);
                recorded++;
            }
            if (k.RetirementAudited == 0 && states[k.Kid] == KeyStates.Retired && await MarkAsync("retirement_audited", k.Kid, ct))
            {
                await audit.RecordAsync(new AuditEntry(AuditLog.SystemOrg, AuditEvents.SigningKeyRetired) { Details = new() { ["kid"] = k.Kid } }, ct);
                recorded++;
            }
        }
        return recorded;
    }

    private Task<bool> MarkAsync(string column, string kid, CancellationToken ct) =>
        db.GlobalAsync(async (c, tx) => await c.ExecuteAsync($"UPDATE signing_keys SET {column} = 1 WHERE kid = @kid AND {column} = 0", new { kid }, tx) == 1, ct);

    private SigningKeyRow NewKey(long now, long activateAt)
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = ec.ExportParameters(includePrivateParameters: false);
        var kid = "k_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        return new SigningKeyRow
        {
            Kid = kid,
            CreatedAt = now,
            ActivateAt = activateAt,
            X = Base64UrlEncoder.Encode(p.Q.X),
            Y = Base64UrlEncoder.Encode(p.Q.Y),
            SealedPrivate = sealer.Seal(kid, ec.ExportPkcs8PrivateKey()),
        };
    }

    private ECDsaSecurityKey PrivateKey(SigningKeyRow row)
    {
        var ec = ECDsa.Create();
        ec.ImportPkcs8PrivateKey(sealer.Unseal(row.Kid, row.SealedPrivate), out _);
        return new ECDsaSecurityKey(ec) { KeyId = row.Kid };
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
