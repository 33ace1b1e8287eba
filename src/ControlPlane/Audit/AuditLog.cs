using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Audit;

/// <summary>
/// Append-only, per-org hash-chained audit log: each event's hash covers its content and the previous event's hash,
/// so editing or deleting a row in the middle is detectable by <see cref="VerifyAsync"/>.
/// </summary>
internal sealed class AuditLog(Db db, TimeProvider time)
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
        };
        await _append.WaitAsync(ct);
        try
        {
            await db.InOrgAsync(e.OrgId, async (c, tx) =>
            {
                if (db.Dialect == Dialect.Postgres)
                    await c.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtext(@org))", new { org = e.OrgId }, tx);
                row.PrevHash = await c.ExecuteScalarAsync<string?>(
                    "SELECT hash FROM audit_events WHERE org_id = @org ORDER BY seq DESC LIMIT 1", new { org = e.OrgId }, tx) ?? Genesis;
                row.Hash = HashOf(row);
                return await c.ExecuteAsync("""
                    INSERT INTO audit_events (org_id, id, ts, event, actor_id, user_id, email, session_id, ip, user_agent, outcome, details, prev_hash, hash)
                    VALUES (@OrgId, @Id, @Ts, @Event, @ActorId, @UserId, @Email, @SessionId, @Ip, @UserAgent, @Outcome, @Details, @PrevHash, @Hash)
                    """, row, tx);
            }, ct);
        }
        finally
        {
            _append.Release();
        }
    }

    public static string HashOf(AuditRow r)
    {
        // A JSON array is an unambiguous encoding of the fields (no delimiter collisions).
        var canonical = JsonSerializer.Serialize(new object?[]
        {
            r.OrgId, r.Id, r.Ts, r.Event, r.ActorId, r.UserId, r.Email, r.SessionId, r.Ip, r.UserAgent, r.Outcome, r.Details, r.PrevHash,
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>Walks the org's chain oldest first and reports the first event whose content or link does not match.</summary>
    public Task<AuditVerification> VerifyAsync(string orgId, CancellationToken ct = default) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            string? previous = null;
            long checkedCount = 0;
            foreach (var r in await c.QueryAsync<AuditRow>("SELECT * FROM audit_events WHERE org_id = @orgId ORDER BY seq", new { orgId }, tx))
            {
                // The oldest remaining event's link is trusted: earlier ones may have been pruned by retention.
                if (previous is not null && r.PrevHash != previous)
                    return new AuditVerification(false, checkedCount, r.Id, "prev_hash does not match the previous event's hash");
                if (HashOf(r) != r.Hash)
                    return new AuditVerification(false, checkedCount, r.Id, "content does not match its hash");
                previous = r.Hash;
                checkedCount++;
            }
            return new AuditVerification(true, checkedCount, null, null);
        }, ct);
}

internal sealed record AuditVerification(bool Ok, long Checked, string? FirstBrokenEventId, string? Reason);
