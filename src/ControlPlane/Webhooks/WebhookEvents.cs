using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Audit;

namespace Authio.ControlPlane.Webhooks;

/// <summary>
/// The events a webhook can subscribe to: audit events published outside the control plane, under the same names.
/// Adding a name here publishes that audit event (document it in the README's event catalog). The payload is
/// versioned: <see cref="PayloadVersion"/> changes only when a field changes meaning or goes away; new fields may
/// appear in any version.
/// </summary>
internal static class WebhookEvents
{
    public const int PayloadVersion = 1;
    public const string All = "*";

    public static readonly IReadOnlySet<string> Catalog = new HashSet<string>(StringComparer.Ordinal)
    {
        AuditEvents.LoginSucceeded, AuditEvents.LoginFailed, AuditEvents.AccountLocked, AuditEvents.Logout, AuditEvents.SessionEnded,
        AuditEvents.ForceLogout, AuditEvents.RefreshReuseDetected, AuditEvents.PasswordChanged, AuditEvents.UserCreated,
        AuditEvents.UserDeactivated, AuditEvents.RoleAssigned, AuditEvents.RoleRevoked, AuditEvents.ApiKeyCreated, AuditEvents.ApiKeyRotated,
        AuditEvents.ApiKeyRevoked, AuditEvents.ApiKeyExpired, AuditEvents.SigningKeyCreated, AuditEvents.SigningKeyRevoked,
        AuditEvents.MfaTotpEnrolled, AuditEvents.MfaTotpRemoved, AuditEvents.MfaRecoveryCodeUsed, AuditEvents.OrgMfaPolicyChanged,
        AuditEvents.UserErased,
        // Written by suspicious sign-in detection when that is present; listed so its findings reach webhooks.
        "suspicious_sign_in",
    };

    /// <summary>Whether a webhook whose filter is <paramref name="filter"/> (a JSON array) wants <paramref name="ev"/>.</summary>
    public static bool Matches(string filter, string ev)
    {
        foreach (var name in Parse(filter))
        {
            if (name == All || name == ev)
            {
                return true;
            }
        }

        return false;
    }

    public static string[] Parse(string filter)
    {
        try
        {
            return JsonSerializer.Deserialize<string[]>(filter) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>The body every subscribed endpoint receives for <paramref name="row"/>: the same bytes on every retry.</summary>
    public static string Payload(AuditRow row)
    {
        var data = new JsonObject { ["outcome"] = row.Outcome };
        Add(data, "actor_id", row.ActorId);
        Add(data, "user_id", row.UserId);
        Add(data, "email", row.Email);
        Add(data, "session_id", row.SessionId);
        Add(data, "ip", row.Ip);
        Add(data, "user_agent", row.UserAgent);
        if (row.Details is not null)
        {
            data["details"] = JsonNode.Parse(row.Details);
        }

        var body = new JsonObject
        {
            ["version"] = PayloadVersion,
            ["id"] = row.Id,
            ["type"] = row.Event,
            ["created_at"] = DateTimeOffset.FromUnixTimeMilliseconds(row.Ts).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            ["org_id"] = row.OrgId,
            ["data"] = data,
        };
        return body.ToJsonString();
    }

    private static void Add(JsonObject o, string name, string? value)
    {
        if (value is not null)
        {
            o[name] = value;
        }
    }
}
