using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Authio.ControlPlane.Audit;

/// <summary>
/// How an audit event's <c>hash</c> is computed, per chain format (<see cref="AuditRow.Format"/>).
/// <list type="bullet">
/// <item>Format 1 (events written before format 2): SHA-256 of the JSON array
/// <c>[org_id, id, ts, event, actor_id, user_id, email, session_id, ip, user_agent, outcome, details, prev_hash]</c>.</item>
/// <item>Format 2: each personal field is committed to on its own, <c>c = SHA-256(JSON ["f", name, salt, value])</c> with
/// a random 128-bit salt per field (kept in <c>salts</c>; "" for a null value), and the hash is SHA-256 of
/// <c>[2, org_id, id, ts, event, outcome, prev_hash, c(actor_id), c(user_id), c(email), c(session_id), c(ip),
/// c(user_agent), c(details)]</c>. Erasure replaces a field by its commitment (in <c>redacted</c>) and drops the value
/// and its salt: the hash still recomputes, so the chain and its signed checkpoints still verify, and without the salt
/// the commitment cannot confirm a guessed value (an email, an address).</item>
/// </list>
/// JSON arrays are unambiguous encodings (no delimiter collisions); docs/audit-verify.py recomputes both formats.
/// </summary>
internal static class AuditHashing
{
    public const int LegacyFormat = 1;
    public const int CommitmentFormat = 2;

    /// <summary>The fields that may name a person, in hashing order; erasure replaces these and only these.</summary>
    public static readonly string[] PersonalFields = ["actor_id", "user_id", "email", "session_id", "ip", "user_agent", "details"];

    private const int SaltBytes = 16;

    public static string HashOf(AuditRow r)
    {
        if (r.Format < CommitmentFormat)
        {
            var canonical = JsonSerializer.Serialize(new object?[]
            {
                r.OrgId, r.Id, r.Ts, r.Event, r.ActorId, r.UserId, r.Email, r.SessionId, r.Ip, r.UserAgent, r.Outcome, r.Details, r.PrevHash,
            });
            return Sha256Hex(canonical);
        }

        var salts = Parse(r.Salts);
        var redacted = Parse(r.Redacted);
        var parts = new object?[7 + PersonalFields.Length];
        parts[0] = CommitmentFormat;
        parts[1] = r.OrgId;
        parts[2] = r.Id;
        parts[3] = r.Ts;
        parts[4] = r.Event;
        parts[5] = r.Outcome;
        parts[6] = r.PrevHash;
        for (var i = 0; i < PersonalFields.Length; i++)
        {
            var name = PersonalFields[i];
            parts[7 + i] = redacted.TryGetValue(name, out var commitment) && commitment is not null
                ? commitment
                : Commit(name, salts.GetValueOrDefault(name) ?? "", Get(r, name));
        }

        return Sha256Hex(JsonSerializer.Serialize(parts));
    }

    public static string Commit(string name, string salt, string? value) =>
        Sha256Hex(JsonSerializer.Serialize(new object?[] { "f", name, salt, value }));

    /// <summary>Fresh salts for the row's non-null personal fields (format 2), as stored in <c>salts</c>.</summary>
    public static string NewSalts(AuditRow r)
    {
        var salts = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in PersonalFields)
        {
            if (Get(r, name) is not null)
            {
                salts[name] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SaltBytes));
            }
        }

        return JsonSerializer.Serialize(salts);
    }

    /// <summary>
    /// Format 2: replaces <paramref name="fields"/> by their commitments (value and salt dropped); the hash is unchanged.
    /// Format 1 cannot keep its content verifiable: the fields are dropped and listed (null) in <c>redacted</c>, which the
    /// caller then seals with a keyed MAC (<see cref="AuditLog.SealLegacyRedaction"/>).
    /// </summary>
    public static void Redact(AuditRow r, IEnumerable<string> fields)
    {
        var salts = Parse(r.Salts);
        var redacted = Parse(r.Redacted);
        foreach (var name in fields)
        {
            if (redacted.ContainsKey(name))
            {
                continue;
            }

            var value = Get(r, name);
            if (r.Format >= CommitmentFormat)
            {
                if (value is null)
                {
                    // A null field's commitment needs no secret: nothing to hide, nothing to replace.
                    continue;
                }

                redacted[name] = Commit(name, salts.GetValueOrDefault(name) ?? "", value);
                salts.Remove(name);
            }
            else
            {
                redacted[name] = null;
            }

            Set(r, name, null);
        }

        r.Salts = salts.Count == 0 ? null : JsonSerializer.Serialize(new SortedDictionary<string, string?>(salts, StringComparer.Ordinal));
        r.Redacted = redacted.Count == 0 ? null : JsonSerializer.Serialize(new SortedDictionary<string, string?>(redacted, StringComparer.Ordinal));
    }

    /// <summary>What a keyed MAC over a redacted format-1 event covers: its hash, its remaining fields, and what was removed.</summary>
    public static string LegacyRedactionInput(AuditRow r)
    {
        var removed = Parse(r.Redacted).Keys.Where(k => k != LegacyMacKey).Order(StringComparer.Ordinal).ToArray();
        return JsonSerializer.Serialize(new object?[]
        {
            "redacted-v1", r.Hash, r.OrgId, r.Id, r.Ts, r.Event, r.ActorId, r.UserId, r.Email, r.SessionId, r.Ip, r.UserAgent, r.Outcome, r.Details,
            r.PrevHash, removed,
        });
    }

    /// <summary>The member of a format-1 event's <c>redacted</c> object that holds the redaction's keyed MAC.</summary>
    public const string LegacyMacKey = "$mac";

    public static Dictionary<string, string?> Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return new Dictionary<string, string?>(StringComparer.Ordinal);
        }

        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string?>>(json) ?? new Dictionary<string, string?>(StringComparer.Ordinal);
        }
        catch (JsonException)
        {
            // A mangled column cannot reproduce the hash: verification reports the row, it does not throw.
            return new Dictionary<string, string?>(StringComparer.Ordinal) { ["$invalid"] = json };
        }
    }

    public static string? Get(AuditRow r, string name) => name switch
    {
        "actor_id" => r.ActorId,
        "user_id" => r.UserId,
        "email" => r.Email,
        "session_id" => r.SessionId,
        "ip" => r.Ip,
        "user_agent" => r.UserAgent,
        "details" => r.Details,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a personal field"),
    };

    private static void Set(AuditRow r, string name, string? value)
    {
        switch (name)
        {
            case "actor_id": r.ActorId = value; break;
            case "user_id": r.UserId = value; break;
            case "email": r.Email = value; break;
            case "session_id": r.SessionId = value; break;
            case "ip": r.Ip = value; break;
            case "user_agent": r.UserAgent = value; break;
            case "details": r.Details = value; break;
            default: throw new ArgumentOutOfRangeException(nameof(name), name, "not a personal field");
        }
    }

    private static string Sha256Hex(string canonical) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
}
