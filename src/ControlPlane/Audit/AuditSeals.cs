using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Orgs;
using Authio.ControlPlane.SigningKeys;
using Authio.ControlPlane.Storage;
using Microsoft.IdentityModel.Tokens;

namespace Authio.ControlPlane.Audit;

/// <summary>
/// The signed payload of a checkpoint ("the chain of <c>org</c> reached event <c>seq</c> with hash <c>hash</c>, the
/// <c>count</c>th event ever") or a retention cut ("events through <c>seq</c> were removed by retention; the last one
/// had hash <c>hash</c>, <c>count</c> events ever through it, <c>removed</c> in this cut").
/// </summary>
internal sealed record AuditSealClaims(
    [property: JsonPropertyName("typ")] string Type,
    [property: JsonPropertyName("org")] string Org,
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("hash")] string Hash,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("iat")] long IssuedAt)
{
    [JsonPropertyName("removed")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Removed { get; init; }
}

internal sealed class AuditSealRow
{
    public long Seq { get; set; }
    public string OrgId { get; set; } = "";
    public string Kind { get; set; } = "";
    public long ThroughSeq { get; set; }
    public string HeadHash { get; set; } = "";
    public long Total { get; set; }
    public string Jws { get; set; } = "";
    public long CreatedAt { get; set; }
}

/// <summary>
/// Signed checkpoints and retention cuts of each org's audit chain, and the verification that uses them. Seals are
/// compact JWS (ES256) signed with the org's signing key, so anyone holding the public JWKS can check them offline;
/// together with the public hash chain they pin every event's content up to the checkpoint.
/// </summary>
internal sealed partial class AuditSeals(Db db, AuditStore store, AuditLog audit, SigningKeyStore keys, OrgStore orgs, TimeProvider time, ILogger<AuditSeals> logger)
{
    public const string Checkpoint = "checkpoint";
    public const string Cut = "cut";
    public const string CheckpointType = "authio-audit-checkpoint";
    public const string CutType = "authio-audit-cut";

    /// <summary>Superseded checkpoints are kept this long (the latest one always), for auditors comparing exports.</summary>
    private static readonly TimeSpan KeepCheckpoints = TimeSpan.FromDays(1);

    private long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Signs <paramref name="claims"/> as a compact JWS with the signing key that signs tokens for
    /// <paramref name="orgId"/>. The one place that asks the key store for a signer.
    /// </summary>
    public async Task<string> SignAsync(string orgId, AuditSealClaims claims, CancellationToken ct)
    {
        var credentials = await keys.SigningCredentialsAsync(orgId, ct);
        var ecdsa = ((ECDsaSecurityKey)credentials.Key).ECDsa;
        var header = Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["alg"] = "ES256", ["typ"] = "JOSE", ["kid"] = credentials.Key.KeyId,
        }));
        var payload = Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = ecdsa.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return header + "." + payload + "." + Base64UrlEncoder.Encode(signature);
    }

    /// <summary>
    /// Public keys that may have signed <paramref name="orgId"/>'s seals, by kid: every key of the org's ring, also retired
    /// ones (an old seal stays valid after rotation); never another org's key, so one tenant cannot seal another's chain.
    /// The one place that asks the key store for verification keys.
    /// </summary>
    public async Task<Dictionary<string, ECDsa>> SealKeysAsync(string orgId, CancellationToken ct)
    {
        return (await keys.AllAsync(ct)).Where(k => k.OrgId == orgId).ToDictionary(k => k.Kid, k => ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(k.X), Y = Base64UrlEncoder.DecodeBytes(k.Y) },
        }), StringComparer.Ordinal);
    }

    /// <summary>The claims of a seal whose ES256 signature verifies with one of <paramref name="sealKeys"/>; null otherwise.</summary>
    public static AuditSealClaims? VerifySeal(string jws, IReadOnlyDictionary<string, ECDsa> sealKeys)
    {
        var parts = jws.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            using var header = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(parts[0]));
            if (header.RootElement.GetProperty("alg").GetString() != "ES256")
            {
                return null;
            }

            if (header.RootElement.GetProperty("kid").GetString() is not { } kid || !sealKeys.TryGetValue(kid, out var ec))
            {
                return null;
            }

            var ok = ec.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64UrlEncoder.DecodeBytes(parts[2]),
                HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            return ok ? JsonSerializer.Deserialize<AuditSealClaims>(Base64UrlEncoder.DecodeBytes(parts[1])) : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException or CryptographicException or ArgumentException)
        {
            return null;
        }
    }

    public Task<List<AuditSealRow>> ListAsync(string orgId, CancellationToken ct) => store.SealsAsync(orgId, ct);

    private bool _swept;

    /// <summary>
    /// Checkpoints every org (and the internal chain) whose head moved since its last checkpoint. The first round after
    /// start looks at every org; later rounds only at those this instance appended to (other instances checkpoint their
    /// own appends), so an idle org costs nothing.
    /// </summary>
    public async Task<int> CheckpointAllAsync(CancellationToken ct)
    {
        var written = 0;
        var moved = audit.TakeMoved();
        IEnumerable<string> candidates = moved;
        if (!_swept)
        {
            candidates = (await orgs.AllIdsAsync(ct)).Append(AuditLog.SystemOrg).Union(moved, StringComparer.Ordinal);
            _swept = true;
        }
        foreach (var orgId in candidates)
        {
            try
            {
                if (await CheckpointAsync(orgId, ct))
                {
                    written++;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One org's failure must not stop the others' checkpoints; it is retried next round.
                Log.CheckpointFailed(logger, orgId, ex);
                audit.MarkMoved(orgId);
            }
        }
        return written;
    }

    /// <summary>Writes a signed checkpoint of the org's chain head unless the latest one already covers it.</summary>
    public async Task<bool> CheckpointAsync(string orgId, CancellationToken ct)
    {
        var state = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            var head = await AuditStore.NewestEventAsync(c, tx, orgId);
            if (head is null)
            {
                return null;
            }

            var last = await AuditStore.LatestCheckpointSeqAsync(c, tx, orgId);
            if (last >= head.Value.Seq)
            {
                return null;
            }

            var cut = await AuditStore.LatestCutAsync(c, tx, orgId);
            var kept = await AuditStore.CountEventsThroughAsync(c, tx, orgId, head.Value.Seq);
            return ((long Seq, string Hash, long Count)?)(head.Value.Seq, head.Value.Hash, (cut?.Total ?? 0) + kept);
        }, ct);
        if (state is not { } s)
        {
            return false;
        }

        var now = NowMs;
        var claims = new AuditSealClaims(CheckpointType, orgId, s.Seq, s.Hash, s.Count, now / 1000);
        var jws = await SignAsync(orgId, claims, ct);
        await db.InOrgAsync(orgId, async (c, tx) =>
        {
            await AuditStore.InsertSealAsync(c, tx, new AuditSealRow { OrgId = orgId, Kind = Checkpoint, ThroughSeq = s.Seq, HeadHash = s.Hash, Total = s.Count, Jws = jws, CreatedAt = now });
            return await AuditStore.DeleteOldCheckpointsAsync(c, tx, orgId, s.Seq, now - (long)KeepCheckpoints.TotalMilliseconds);
        }, ct);
        return true;
    }

    /// <summary>
    /// Retention: removes the org's events with <c>ts &lt; cutoff</c> (as a prefix of the chain) after writing a signed cut
    /// record for them in the same transaction. The removed part is verified first: a broken one is left in place as
    /// evidence (and logged) rather than cut, so retention can never launder tampering.
    /// </summary>
    public async Task<int> CutAsync(string orgId, long cutoffMs, CancellationToken ct)
    {
        var plan = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            var through = await AuditStore.LastSeqBeforeAsync(c, tx, orgId, cutoffMs);
            if (through is null)
            {
                return null;
            }

            var cut = await AuditStore.LatestCutAsync(c, tx, orgId);
            var rows = await AuditStore.EventsThroughAsync(c, tx, orgId, through.Value);
            var expected = cut?.HeadHash ?? AuditLog.Genesis;
            foreach (var r in rows)
            {
                if (r.PrevHash != expected || !audit.ContentVerifies(orgId, r) || r.Mac != audit.MacOf(orgId, r.Hash))
                {
                    Log.CutRefused(logger, orgId, r.Seq);
                    return null;
                }
                expected = r.Hash;
            }
            return ((long Through, string Hash, long Count, long Removed, long? PreviousCut)?)(through.Value, expected, (cut?.Total ?? 0) + rows.Count, rows.Count, cut?.ThroughSeq);
        }, ct);
        if (plan is not { } p)
        {
            return 0;
        }

        var now = NowMs;
        var jws = await SignAsync(orgId, new AuditSealClaims(CutType, orgId, p.Through, p.Hash, p.Count, now / 1000) { Removed = p.Removed }, ct);
        return await audit.ExclusiveAsync(() => db.InOrgAsync(orgId, async (c, tx) =>
        {
            await store.LockChainAsync(c, tx, orgId);
            // Another instance may have cut meanwhile: then this plan is stale, and the next round starts afresh.
            if ((await AuditStore.LatestCutAsync(c, tx, orgId))?.ThroughSeq != p.PreviousCut)
            {
                return 0;
            }

            await AuditStore.InsertSealAsync(c, tx, new AuditSealRow { OrgId = orgId, Kind = Cut, ThroughSeq = p.Through, HeadHash = p.Hash, Total = p.Count, Jws = jws, CreatedAt = now });
            await AuditStore.DeleteSealsBeforeAsync(c, tx, orgId, p.Through);
            return await AuditStore.DeleteEventsThroughAsync(c, tx, orgId, p.Through);
        }, ct), ct);
    }

    /// <summary>
    /// Walks the org's chain oldest first against its seals and reports the first bad position: a seal whose signature
    /// fails, events removed from the head (the oldest event neither starts the chain nor continues the latest signed
    /// cut), an edited row (content ≠ hash), a rewritten row or re-hashed tail (MAC ≠ keyed MAC of the hash), a broken
    /// link, an event a checkpoint covers that is missing, and events removed from the tail (the chain ends before the
    /// latest signed checkpoint).
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(string orgId, CancellationToken ct)
    {
        var sealKeys = await SealKeysAsync(orgId, ct);
        try
        {
            return await VerifyCoreAsync(orgId, sealKeys, ct);
        }
        finally
        {
            foreach (var key in sealKeys.Values)
            {
                key.Dispose();
            }
        }
    }

    private async Task<AuditVerification> VerifyCoreAsync(string orgId, Dictionary<string, ECDsa> sealKeys, CancellationToken ct)
    {
        AuditSealClaims? cut = null;
        var checkpoints = new List<AuditSealClaims>();
        long checkedCount = 0;
        long? latestCheckpoint = null;
        foreach (var seal in await ListAsync(orgId, ct))
        {
            var claims = VerifySeal(seal.Jws, sealKeys);
            var type = seal.Kind == Cut ? CutType : CheckpointType;
            if (claims is null || claims.Org != orgId || claims.Type != type)
            {
                return Fail(null, seal.ThroughSeq, $"the signed {seal.Kind} through seq {seal.ThroughSeq} does not verify (signature, org or type)");
            }

            if (seal.Kind == Cut)
            {
                if (cut is null || claims.Seq > cut.Seq)
                {
                    cut = claims;
                }
            }
            else
            {
                checkpoints.Add(claims);
            }
        }
        var pending = new Queue<AuditSealClaims>(checkpoints.Where(k => cut is null || k.Seq > cut.Seq).OrderBy(k => k.Seq));
        latestCheckpoint = checkpoints.Count == 0 ? null : checkpoints.Max(k => k.Seq);
        var rows = await store.AllEventsAsync(orgId, ct);

        var expected = cut?.Hash ?? AuditLog.Genesis;
        var ever = cut?.Count ?? 0;
        foreach (var r in rows)
        {
            if (cut is not null && r.Seq <= cut.Seq)
            {
                return Fail(r, r.Seq, $"event lies inside the signed retention cut through seq {cut.Seq}");
            }

            if (pending.TryPeek(out var skipped) && skipped.Seq < r.Seq)
            {
                return Fail(null, skipped.Seq, $"event seq {skipped.Seq} covered by a signed checkpoint is missing");
            }

            if (r.PrevHash != expected)
            {
                var reason = checkedCount > 0 ? "prev_hash does not match the previous event's hash (events removed or reordered)"
                    : cut is null ? "events removed from the head: the oldest event does not start the chain and no signed retention cut covers the gap"
                    : $"events removed from the head: the oldest event does not continue the signed retention cut through seq {cut.Seq}";
                return Fail(r, r.Seq, reason);
            }
            if (!audit.ContentVerifies(orgId, r))
            {
                return Fail(r, r.Seq, "content does not match its hash (row edited)");
            }

            if (r.Mac is null)
            {
                return Fail(r, r.Seq, "event has no MAC (written outside the control plane, or an unkeyed chain that was never upgraded)");
            }

            if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(r.Mac), Encoding.ASCII.GetBytes(audit.MacOf(orgId, r.Hash))))
            {
                return Fail(r, r.Seq, "MAC does not verify: the hash was recomputed without the org's chain key (rewritten row or re-hashed tail)");
            }

            ever++;
            while (pending.TryPeek(out var k) && k.Seq == r.Seq)
            {
                if (k.Hash != r.Hash || k.Count != ever)
                {
                    return Fail(r, r.Seq, $"does not match the signed checkpoint at seq {k.Seq} (hash or count {k.Count} ≠ {ever})");
                }

                pending.Dequeue();
            }
            expected = r.Hash;
            checkedCount++;
        }
        if (pending.TryPeek(out var beyond))
        {
            var end = rows.Count > 0 ? rows[^1].Seq : cut?.Seq ?? 0;
            return Fail(null, beyond.Seq, $"events removed from the tail: the chain ends at seq {end}, before the signed checkpoint at seq {beyond.Seq} (event {beyond.Count})");
        }
        return new AuditVerification(true, checkedCount, null, null) { CheckpointSeq = latestCheckpoint, RetainedFromSeq = cut is null ? null : cut.Seq + 1 };

        AuditVerification Fail(AuditRow? row, long seq, string reason) =>
            new(false, checkedCount, row?.Id, reason) { FirstBrokenSeq = seq, CheckpointSeq = latestCheckpoint, RetainedFromSeq = cut is null ? null : cut.Seq + 1 };
    }

    /// <summary>
    /// One-time upgrade of chains written before MACs existed (migration 11 leaves a marker row): each org's unkeyed
    /// chain is verified as before (the oldest link trusted) and every event up to the first break gets its MAC. A chain
    /// that already lost its head to the old retention gets a signed cut for the gap. Events from a break on stay without
    /// a MAC, so <c>/verify</c> keeps naming the break. Then the marker is removed: later missing MACs are never filled in.
    /// </summary>
    public async Task UpgradeLegacyChainsAsync(CancellationToken ct)
    {
        if (!await store.MacBackfillPendingAsync(ct))
        {
            return;
        }

        foreach (var orgId in (await orgs.AllIdsAsync(ct)).Append(AuditLog.SystemOrg))
        {
            var rows = await store.AllEventsAsync(orgId, ct);
            if (rows.Count == 0)
            {
                continue;
            }

            var macs = new List<(long Seq, string Mac)>();
            string? previous = null;
            long? brokenAt = null;
            foreach (var r in rows)
            {
                if (r.Mac is not null)
                {
                    // Written by a keyed control plane (a new store's bootstrap events): the chain is keyed from here on.
                    break;
                }
                if ((previous is not null && r.PrevHash != previous) || AuditLog.HashOf(r) != r.Hash)
                {
                    brokenAt = r.Seq;
                    break;
                }
                macs.Add((r.Seq, audit.MacOf(orgId, r.Hash)));
                previous = r.Hash;
            }
            if (macs.Count == 0 && brokenAt is null)
            {
                continue; // nothing unkeyed: nothing to upgrade or report
            }
            string? cutJws = null;
            var first = rows[0];
            var now = NowMs;
            if (first.PrevHash != AuditLog.Genesis)
            {
                cutJws = await SignAsync(orgId, new AuditSealClaims(CutType, orgId, first.Seq - 1, first.PrevHash, 0, now / 1000) { Removed = 0 }, ct);
            }

            await db.InOrgAsync(orgId, async (c, tx) =>
            {
                foreach (var (seq, mac) in macs)
                {
                    await AuditStore.SetMissingMacAsync(c, tx, orgId, seq, mac);
                }

                if (cutJws is not null)
                {
                    await AuditStore.InsertSealAsync(c, tx, new AuditSealRow { OrgId = orgId, Kind = Cut, ThroughSeq = first.Seq - 1, HeadHash = first.PrevHash, Total = 0, Jws = cutJws, CreatedAt = now });
                }

                return 0;
            }, ct);
            if (brokenAt is { } seq)
            {
                Log.ChainNotUpgraded(logger, orgId, seq);
            }
            else
            {
                Log.ChainUpgraded(logger, orgId, macs.Count);
            }
        }
        await store.ClearMacBackfillAsync(ct);
    }
}
