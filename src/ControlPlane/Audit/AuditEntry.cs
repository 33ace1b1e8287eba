namespace Authio.ControlPlane.Audit;

/// <summary>What a caller records. Never put secrets or tokens in any field.</summary>
internal sealed record AuditEntry(string OrgId, string Event, string Outcome = "success")
{
    public string? ActorId { get; init; }
    public string? UserId { get; init; }
    public string? Email { get; init; }
    public string? SessionId { get; init; }
    public string? Ip { get; init; }
    public string? UserAgent { get; init; }
    public Dictionary<string, string?>? Details { get; init; }
}

/// <summary>A stored event, as read back.</summary>
internal sealed class AuditRow
{
    public long Seq { get; set; }
    public string OrgId { get; set; } = "";
    public string Id { get; set; } = "";
    public long Ts { get; set; }
    public string Event { get; set; } = "";
    public string? ActorId { get; set; }
    public string? UserId { get; set; }
    public string? Email { get; set; }
    public string? SessionId { get; set; }
    public string? Ip { get; set; }
    public string? UserAgent { get; set; }
    public string Outcome { get; set; } = "";
    public string? Details { get; set; }
    public string PrevHash { get; set; } = "";
    public string Hash { get; set; } = "";
    public string? Mac { get; set; }

    /// <summary>Chain format of <see cref="Hash"/> (<see cref="AuditHashing"/>): 1 for events from before format 2.</summary>
    public long Format { get; set; } = AuditHashing.LegacyFormat;

    /// <summary>Format 2: JSON object of the personal fields' salts (a redacted field's is gone).</summary>
    public string? Salts { get; set; }

    /// <summary>JSON object of the fields erased from this event: their commitments (format 2), or null plus a keyed MAC (format 1).</summary>
    public string? Redacted { get; set; }
}
