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
}
