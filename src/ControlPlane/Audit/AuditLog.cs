using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.SigningKeys;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Webhooks;

namespace Authio.ControlPlane.Audit;

/// <summary>
/// Append-only, per-org hash-chained audit log. Each event's <c>hash</c> is SHA-256 over its content and the previous
/// event's hash (public, so an auditor can recompute the chain from an export up to a signed checkpoint), and its
/// <c>mac</c> is HMAC-SHA256 of that hash under the org's chain key, derived from the master key and never stored: a
/// database writer can recompute hashes but not MACs, so a rewritten row or re-hashed tail fails verification
/// (<see cref="AuditSeals"/>). Checkpoints and retention cuts are signed separately. Events in the webhook catalog
/// are put in the webhook outbox in the append's own transaction.
/// </summary>
internal sealed class AuditLog(Db db, AuditStore store, TimeProvider time, MasterKey master, ControlPlaneMetrics metrics, WebhookOutbox webhooks)
{
    /// <summary>Pseudo-org for events that belong to no org (unknown-email sign-ins, scheduled key rotation).</summary>
    public const string SystemOrg = "_system";
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    // Serialises appends so each org's chain stays linear within this process; PostgreSQL adds an advisory lock across instances.
    private readonly SemaphoreSlim _append = new(1, 1);

    public async Task RecordAsync(AuditEntry e, CancellationToken ct = default)
    {
        var row = new AuditRow
        {
            OrgId = e.OrgId,
            Id = "evt_" + Guid.CreateVersion7().ToString("N"),
            Ts = time.GetUtcNow().ToUnixTimeMilliseconds(),
            Event = e.Event,
            ActorId = e.ActorId,
            UserId = e.UserId,
            Email = e.Email,
            SessionId = e.SessionId,
            Ip = e.Ip,
            UserAgent = e.UserAgent,
            Outcome = e.Outcome,
            Details = e.Details is null ? null : JsonSerializer.Serialize(e.Details),
            Format = AuditHashing.CommitmentFormat,
        };
        row.Salts = AuditHashing.NewSalts(row);
        await _append.WaitAsync(ct);
        try
        {
            await db.InOrgAsync(e.OrgId, async (c, tx) =>
            {
                await store.LockChainAsync(c, tx, e.OrgId);
                // After retention removed every event, the chain continues from the last removed one (the signed cut).
                row.PrevHash = await AuditStore.ChainHeadHashAsync(c, tx, e.OrgId) ?? Genesis;
                row.Hash = HashOf(row);
                row.Mac = MacOf(e.OrgId, row.Hash);
                var inserted = await AuditStore.InsertEventAsync(c, tx, row);
                // Same transaction: the event and the webhook deliveries announcing it commit together.
                await webhooks.EnqueueAsync(c, tx, row);
                return inserted;
            }, ct);
        }
        finally
        {
            _append.Release();
        }
        _moved[e.OrgId] = 0;
        metrics.AuditWritten();
    }

    // Orgs whose chain this instance extended since the last checkpoint round: only those need a new checkpoint.
    private readonly ConcurrentDictionary<string, byte> _moved = new(StringComparer.Ordinal);

    /// <summary>The orgs appended to since the last call (each once), for the checkpoint round.</summary>
    public IReadOnlyList<string> TakeMoved()
    {
        var orgs = _moved.Keys.ToList();
        foreach (var org in orgs)
        {
            _moved.TryRemove(org, out _);
        }

        return orgs;
    }

    /// <summary>Marks an org for the next checkpoint round again (its checkpoint failed).</summary>
    public void MarkMoved(string orgId) => _moved[orgId] = 0;

    public static string HashOf(AuditRow r) => AuditHashing.HashOf(r);

    /// <summary>
    /// Whether the row's content matches its hash: recomputed (format 2, redacted or not; format 1 as written), or for a
    /// format-1 event redacted by an erasure, the keyed MAC the erasure sealed it with (its content can no longer be recomputed).
    /// </summary>
    public bool ContentVerifies(string orgId, AuditRow r)
    {
        if (r.Format >= AuditHashing.CommitmentFormat || r.Redacted is null)
        {
            return HashOf(r) == r.Hash;
        }

        return AuditHashing.Parse(r.Redacted).GetValueOrDefault(AuditHashing.LegacyMacKey) is { } mac
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(mac), Encoding.ASCII.GetBytes(LegacyRedactionMac(orgId, r)));
    }

    /// <summary>After <see cref="AuditHashing.Redact"/> of a format-1 event: records the keyed MAC over what remains.</summary>
    public void SealLegacyRedaction(string orgId, AuditRow r)
    {
        if (r.Format >= AuditHashing.CommitmentFormat || r.Redacted is null)
        {
            return;
        }

        // The MAC's input leaves out the MAC member itself, so an earlier seal is simply replaced.
        var redacted = AuditHashing.Parse(r.Redacted);
        redacted[AuditHashing.LegacyMacKey] = LegacyRedactionMac(orgId, r);
        r.Redacted = JsonSerializer.Serialize(new SortedDictionary<string, string?>(redacted, StringComparer.Ordinal));
    }

    private string LegacyRedactionMac(string orgId, AuditRow r) => MacOf(orgId, "redaction:" + AuditHashing.LegacyRedactionInput(r));

    private readonly ConcurrentDictionary<string, byte[]> _chainKeys = new(StringComparer.Ordinal);

    /// <summary>HMAC-SHA256 of an event hash under the org's chain key (HKDF of the master key, per org).</summary>
    public string MacOf(string orgId, string hash) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_chainKeys.GetOrAdd(orgId, o => master.Derive("audit-chain/v1/" + o)), Encoding.UTF8.GetBytes(hash)));

    /// <summary>Serialises chain maintenance (upgrade, cuts) with appends in this process.</summary>
    public async Task<T> ExclusiveAsync<T>(Func<Task<T>> work, CancellationToken ct)
    {
        await _append.WaitAsync(ct);
        try
        {
            return await work();
        }
        finally
        {
            _append.Release();
        }
    }
}

/// <summary>
/// Result of <c>GET /v1/audit-events/verify</c>: the first bad position (event id and/or seq) and why, or ok.
/// <c>Checked</c> counts the events whose content, link and MAC verified.
/// </summary>
internal sealed record AuditVerification(bool Ok, long Checked, string? FirstBrokenEventId, string? Reason)
{
    public long? FirstBrokenSeq { get; init; }
    public long? CheckpointSeq { get; init; }
    public long? RetainedFromSeq { get; init; }
}
