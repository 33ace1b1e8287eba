using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.ApiKeys;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Auth;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.SigningKeys;
using Authio.ControlPlane.Storage;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.DataSubjects;

/// <summary>An export job as the API shows it (never its content).</summary>
internal sealed record DataExportView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("user_id")] string UserId,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("records")] long Records,
    [property: JsonPropertyName("download_url")] string DownloadUrl,
    [property: JsonPropertyName("downloaded_at")] DateTimeOffset? DownloadedAt);

/// <summary>What an erasure did.</summary>
internal sealed record ErasureReport(
    [property: JsonPropertyName("user_id")] string UserId,
    [property: JsonPropertyName("identity_erased")] bool IdentityErased,
    [property: JsonPropertyName("sessions_ended")] int SessionsEnded,
    [property: JsonPropertyName("api_keys_revoked")] int ApiKeysRevoked,
    [property: JsonPropertyName("audit_events_redacted")] int AuditEventsRedacted,
    [property: JsonPropertyName("webhook_deliveries_deleted")] int WebhookDeliveriesDeleted,
    [property: JsonPropertyName("exports_deleted")] int ExportsDeleted);

/// <summary>
/// Data-subject requests for one org: an export of everything the control plane holds about a person (NDJSON, sealed
/// at rest, downloadable once by a mod with step-up), and erasure — the person's rows deleted, their sessions and API
/// keys revoked at the edges through the change feed, and the audit events about them redacted by commitment (chain
/// format 2), so <c>/v1/audit-events/verify</c> still passes. A person who belongs to other orgs keeps their identity
/// (and those orgs' data): an org can only erase what is its own.
/// </summary>
internal sealed partial class DataSubjectService(Db db, DataSubjectStore store, AuditLog audit, SessionStore sessions, ApiKeyAdminService apiKeys,
    KeySealer sealer, MasterKey master, LoginFailures loginFailures, ControlPlaneOptions options, TimeProvider time, ILogger<DataSubjectService> logger)
{
    /// <summary>Version of the export's line shapes; new fields may appear in any version.</summary>
    public const int ExportVersion = 1;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<Result<DataExportView>> ExportAsync(Caller actor, string userId, CancellationToken ct)
    {
        var orgId = actor.OrgId;
        var now = Now;
        var id = "exp_" + Guid.CreateVersion7().ToString("N");
        var row = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            if (await DataSubjectStore.MembershipAsync(c, tx, orgId, userId) is not { } membership)
            {
                return null;
            }

            var (content, records) = await BuildAsync(c, tx, orgId, userId, membership, id, now);
            var r = new DataExportRow
            {
                OrgId = orgId, Id = id, UserId = userId, RequestedBy = actor.UserId, State = DataExportStates.Ready,
                SealedContent = sealer.Seal(ContentContext(orgId, id), content), Bytes = content.Length, Records = records,
                CreatedAt = now, ExpiresAt = now + (long)options.DataSubjects.ExportTtl.TotalMilliseconds,
            };
            await DataSubjectStore.InsertExportAsync(c, tx, r);
            return r;
        }, ct);
        if (row is null)
        {
            return Failure.NotFound("User");
        }

        Log.Exported(logger, orgId, id, row.Records, row.Bytes);
        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.UserExportCreated)
        {
            ActorId = actor.UserId, UserId = userId, Ip = actor.Client.Ip, UserAgent = actor.Client.UserAgent,
            Details = new() { ["export_id"] = id, ["records"] = Invariant(row.Records) },
        }, ct);
        return View(row);
    }

    public async Task<Result<DataExportView>> GetExportAsync(string orgId, string userId, string id, CancellationToken ct) =>
        await store.GetExportAsync(orgId, userId, id, ct) is { } row ? View(row) : Failure.NotFound("Export");

    /// <summary>The export's NDJSON, once: a second download, or one after expiry, is 410 <c>export_gone</c>.</summary>
    public async Task<Result<byte[]>> DownloadAsync(Caller actor, string userId, string id, CancellationToken ct)
    {
        var orgId = actor.OrgId;
        if (await store.TakeExportAsync(orgId, userId, id, actor.UserId, Now, ct) is not { } taken)
        {
            return Failure.NotFound("Export");
        }

        if (taken.SealedContent is not { } sealedContent)
        {
            return new Failure(410, ErrorCodes.ExportGone, "Export gone", taken.State == DataExportStates.Expired
                ? "This export has expired and its content was deleted; request a new one."
                : "This export was already downloaded; its content is handed out once and then deleted. Request a new one.");
        }

        var content = sealer.Unseal(ContentContext(orgId, id), sealedContent);
        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.UserExportDownloaded)
        {
            ActorId = actor.UserId, UserId = userId, SessionId = actor.SessionId, Ip = actor.Client.Ip, UserAgent = actor.Client.UserAgent,
            Details = new() { ["export_id"] = id },
        }, ct);
        return content;
    }

    public async Task<Result<ErasureReport>> EraseAsync(Caller actor, string userId, CancellationToken ct)
    {
        var orgId = actor.OrgId;
        if (userId == actor.UserId)
        {
            return Failure.Conflict("You cannot erase yourself: another mod of the org must do it.");
        }

        var now = Now;
        var pseudonym = Pseudonym(orgId, userId);
        var done = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            // The membership lock first: a sign-in for this person waits, then finds no membership.
            if (await SessionStore.LockMemberAsync(c, tx, orgId, userId) is null)
            {
                return null;
            }

            var email = (await DataSubjectStore.ProfileAsync(c, tx, userId))?.Email;
            // Row locks in the store-wide order: membership, keys, sessions, then the change-log lock the appends take.
            var keys = await apiKeys.MarkUngrantableRevokedAsync(c, tx, orgId, userId, null, actor.UserId, now);
            // One sid revocation per live session, and no user-wide one: that would name the person in the change log.
            var ended = await sessions.EndOthersAsync(c, tx, orgId, userId, null, EndReasons.Erased, now);
            await apiKeys.AppendHolderRevocationsAsync(c, tx, keys, now);
            var redacted = await RedactAsync(c, tx, orgId, userId, email);
            var erased = await store.EraseInOrgAsync(c, tx, orgId, userId, email, pseudonym);
            var identity = await store.EraseIdentityAsync(c, tx, userId);
            return new ErasureWork(email, identity, ended.Count, keys, redacted, erased);
        }, ct);
        if (done is null)
        {
            return Failure.NotFound("User");
        }

        var systemRedacted = 0;
        if (done.IdentityErased)
        {
            // Events of no org (e.g. a failed sign-in before an org was known) may name the person too.
            systemRedacted = await db.InOrgAsync(AuditLog.SystemOrg, (c, tx) => RedactAsync(c, tx, AuditLog.SystemOrg, userId, done.Email), ct);
            if (done.Email is not null)
            {
                await store.ClearLoginFailuresAsync(loginFailures.KeyOf(done.Email), ct);
            }
        }

        var report = new ErasureReport(userId, done.IdentityErased, done.SessionsEnded, done.Keys.Count, done.Redacted + systemRedacted,
            done.Org.WebhookDeliveries, done.Org.Exports);
        Log.Erased(logger, orgId, pseudonym, done.IdentityErased, report.SessionsEnded, report.ApiKeysRevoked, report.AuditEventsRedacted);
        // The erasure's own record names no one: the subject is a keyed pseudonym only the control plane can recompute.
        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.UserErased)
        {
            ActorId = actor.UserId, Ip = actor.Client.Ip, UserAgent = actor.Client.UserAgent,
            Details = new()
            {
                ["subject"] = pseudonym,
                ["identity_erased"] = done.IdentityErased ? "true" : "false",
                ["sessions_ended"] = Invariant(report.SessionsEnded),
                ["api_keys_revoked"] = string.Join(',', done.Keys.Select(k => k.Id)),
                ["audit_events_redacted"] = Invariant(report.AuditEventsRedacted),
                ["webhook_deliveries_deleted"] = Invariant(report.WebhookDeliveriesDeleted),
            },
        }, ct);
        return report;
    }

    /// <summary>
    /// Redacts every event of the org that names the person: as subject (their ids, email, session, details), as actor
    /// (their id, session, address and user agent), or inside details. Another person's fields in the same event stay.
    /// </summary>
    private async Task<int> RedactAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string orgId, string userId, string? email)
    {
        var count = 0;
        foreach (var row in await AuditStore.EventsNamingAsync(c, tx, orgId, userId, email))
        {
            var subject = row.UserId == userId || (email is not null && row.UserId is null && row.Email == email);
            var acting = row.ActorId == userId;
            var fields = new List<string>();
            if (subject)
            {
                fields.AddRange(["user_id", "email", "session_id", "details"]);
                if (row.ActorId is null || acting)
                {
                    fields.AddRange(["ip", "user_agent"]);
                }
            }

            if (acting)
            {
                fields.AddRange(["actor_id", "session_id", "ip", "user_agent"]);
            }

            if (email is not null && row.Email == email)
            {
                fields.Add("email");
            }

            if (row.Details is { } d && (d.Contains(userId, StringComparison.Ordinal) || (email is not null && Mentions(d, email))))
            {
                fields.Add("details");
            }

            var before = row.Redacted;
            AuditHashing.Redact(row, fields.Distinct(StringComparer.Ordinal));
            audit.SealLegacyRedaction(orgId, row);
            if (row.Redacted != before)
            {
                await AuditStore.UpdateRedactedAsync(c, tx, row);
                count++;
            }
        }

        return count;
    }

    private static bool Mentions(string json, string value) =>
        json.Contains(value, StringComparison.OrdinalIgnoreCase) || json.Contains(JsonSerializer.Serialize(value)[1..^1], StringComparison.OrdinalIgnoreCase);

    /// <summary>Everything about the person as NDJSON: a header line, one line per record, an end line with the count.</summary>
    private async Task<(byte[] Content, long Records)> BuildAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string orgId, string userId,
        ExportedMembership membership, string exportId, long now)
    {
        using var buffer = new MemoryStream();
        long records = 0;
        void Line(string type, Action<Utf8JsonWriter> fields, bool counted = true)
        {
            using (var w = new Utf8JsonWriter(buffer, WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("type", type);
                fields(w);
                w.WriteEndObject();
            }

            buffer.WriteByte((byte)'\n');
            records += counted ? 1 : 0;
        }

        Line("export", w =>
        {
            w.WriteNumber("version", ExportVersion);
            w.WriteString("export_id", exportId);
            w.WriteString("org_id", orgId);
            w.WriteString("user_id", userId);
            w.WriteString("created_at", Iso(now));
        }, counted: false);
        if (await DataSubjectStore.ProfileAsync(c, tx, userId) is { } p)
        {
            Line("profile", w =>
            {
                w.WriteString("user_id", p.Id);
                w.WriteString("email", p.Email);
                w.WriteString("created_at", Iso(p.CreatedAt));
                w.WriteString("password_changed_at", Iso(p.PasswordChangedAt));
                WriteTime(w, "locked_until", p.LockedUntil);
            });
        }

        Line("membership", w =>
        {
            w.WriteString("org_id", membership.OrgId);
            w.WriteString("role", membership.Role);
            w.WriteBoolean("active", membership.Active == 1);
            w.WriteString("created_at", Iso(membership.CreatedAt));
            WriteTime(w, "deactivated_at", membership.DeactivatedAt);
        });
        foreach (var r in await DataSubjectStore.ProjectRolesAsync(c, tx, orgId, userId))
        {
            Line("project_role", w =>
            {
                w.WriteString("project_id", r.ProjectId);
                w.WriteString("role", r.Role);
            });
        }

        foreach (var t in await DataSubjectStore.TeamsAsync(c, tx, orgId, userId))
        {
            Line("team", w =>
            {
                w.WriteString("team_id", t.TeamId);
                w.WriteString("name", t.Name);
            });
        }

        foreach (var s in await DataSubjectStore.SessionsAsync(c, tx, orgId, userId))
        {
            Line("session", w =>
            {
                w.WriteString("session_id", s.Id);
                w.WriteString("created_at", Iso(s.CreatedAt));
                w.WriteString("last_seen_at", Iso(s.LastSeenAt));
                w.WriteString("ip", s.Ip);
                w.WriteString("user_agent", s.UserAgent);
                WriteTime(w, "ended_at", s.EndedAt);
                w.WriteString("end_reason", s.EndReason);
                w.WriteString("amr", s.Amr);
                w.WriteString("acr", s.Acr);
            });
        }

        if (await DataSubjectStore.TotpAsync(c, tx, userId) is { } totp)
        {
            Line("mfa_method", w =>
            {
                w.WriteString("method", "totp");
                w.WriteString("created_at", Iso(totp.CreatedAt));
                WriteTime(w, "confirmed_at", totp.ConfirmedAt);
            });
        }

        var codes = await DataSubjectStore.RecoveryCodesAsync(c, tx, userId);
        if (codes.Total > 0)
        {
            Line("mfa_method", w =>
            {
                w.WriteString("method", "recovery_codes");
                w.WriteNumber("codes", codes.Total);
                w.WriteNumber("used", codes.Used);
            });
        }

        foreach (var k in await DataSubjectStore.PasskeysAsync(c, tx, userId))
        {
            Line("mfa_method", w =>
            {
                w.WriteString("method", "passkey");
                w.WriteString("passkey_id", k.Id);
                w.WriteString("name", k.Name);
                w.WriteString("aaguid", k.Aaguid);
                w.WriteString("transports", k.Transports);
                w.WriteBoolean("backup_eligible", k.BackupEligible == 1);
                w.WriteBoolean("backed_up", k.BackedUp == 1);
                w.WriteString("created_at", Iso(k.CreatedAt));
                WriteTime(w, "last_used_at", k.LastUsedAt);
            });
        }

        foreach (var k in await DataSubjectStore.ApiKeysAsync(c, tx, orgId, userId))
        {
            Line("api_key", w =>
            {
                w.WriteString("api_key_id", k.Id);
                w.WriteString("name", k.Name);
                w.WriteString("prefix", k.Prefix);
                w.WriteString("scopes", k.Scopes);
                w.WriteString("environment", k.Environment);
                w.WriteString("project_id", k.ProjectId);
                w.WriteString("created_at", Iso(k.CreatedAt));
                WriteTime(w, "expires_at", k.ExpiresAt);
                WriteTime(w, "last_used_at", k.LastUsedAt);
                w.WriteNumber("use_count", k.UseCount);
                WriteTime(w, "revoked_at", k.RevokedAt);
            });
        }

        foreach (var h in await DataSubjectStore.SignInHistoryAsync(c, tx, userId))
        {
            Line("sign_in_network", w =>
            {
                w.WriteString("network", h.Network);
                w.WriteString("device_digest", h.Device);
                w.WriteString("last_seen", Iso(h.LastSeen));
                if (h.Latitude is { } lat && h.Longitude is { } lon)
                {
                    w.WriteNumber("latitude", lat);
                    w.WriteNumber("longitude", lon);
                }
            });
        }

        foreach (var e in await AuditStore.EventsNamingAsync(c, tx, orgId, userId, null))
        {
            var subject = e.UserId == userId;
            var acting = e.ActorId == userId;
            Line("audit_event", w =>
            {
                w.WriteString("event_id", e.Id);
                w.WriteString("timestamp", Iso(e.Ts));
                w.WriteString("event", e.Event);
                w.WriteString("outcome", e.Outcome);
                w.WriteString("as", subject ? "subject" : acting ? "actor" : "mentioned");
                // Only this person's fields: another person acting on them, or acted on by them, stays out.
                if (subject)
                {
                    w.WriteString("email", e.Email);
                    w.WritePropertyName("details");
                    if (e.Details is null)
                    {
                        w.WriteNullValue();
                    }
                    else
                    {
                        // Stored by the control plane as a JSON object: written as one, not as a string of JSON.
                        w.WriteRawValue(e.Details);
                    }
                }

                if (subject || acting)
                {
                    w.WriteString("session_id", e.SessionId);
                }

                if (acting || (subject && e.ActorId is null))
                {
                    w.WriteString("ip", e.Ip);
                    w.WriteString("user_agent", e.UserAgent);
                }
            });
        }

        var total = records;
        Line("end", w => w.WriteNumber("records", total), counted: false);
        return (buffer.ToArray(), records);
    }

    private static void WriteTime(Utf8JsonWriter w, string name, long? ms)
    {
        if (ms is { } v)
        {
            w.WriteString(name, Iso(v));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static string Iso(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    // A download, not a web page: no reason to escape '+', quotes or non-ASCII letters.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Invariant(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string ContentContext(string orgId, string exportId) => "data-export/v1/" + orgId + "/" + exportId;

    /// <summary>HMAC of the person's id under a per-org key derived from the master key: stable, and meaningless without it.</summary>
    private string Pseudonym(string orgId, string userId) =>
        "erased_" + Convert.ToHexStringLower(HMACSHA256.HashData(master.Derive("erased-subject/v1/" + orgId), Encoding.UTF8.GetBytes(userId)))[..32];

    private static DataExportView View(DataExportRow r) => new(r.Id, r.UserId, r.State,
        DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(r.ExpiresAt), r.Bytes, r.Records,
        $"/v1/users/{r.UserId}/exports/{r.Id}/download", r.DownloadedAt is { } d ? DateTimeOffset.FromUnixTimeMilliseconds(d) : null);

    private sealed record ErasureWork(string? Email, bool IdentityErased, int SessionsEnded, List<ApiKeyRow> Keys, int Redacted, OrgErasure Org);
}
