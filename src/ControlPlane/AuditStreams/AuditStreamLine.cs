using System.Text.Json.Serialization;
using Authio.ControlPlane.Audit;

namespace Authio.ControlPlane.AuditStreams;

/// <summary>
/// One audit event on a stream (one NDJSON line), version 2: the stored row with its chain links, its chain
/// <c>format</c>, the personal fields' <c>salts</c> and any erased fields' commitments (<c>redacted</c>). <c>details</c>,
/// <c>salts</c> and <c>redacted</c> are the stored JSON texts, so a receiver recomputes <c>hash</c> exactly
/// (<see cref="AuditHashing"/>; version 1 lines had no format and always hashed as format 1) and checks each line's
/// <c>prev_hash</c> against the org's previous line.
/// </summary>
internal sealed record AuditStreamLine(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("org_id")] string OrgId,
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("ts")] long Ts,
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("actor_id")] string? ActorId,
    [property: JsonPropertyName("user_id")] string? UserId,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("session_id")] string? SessionId,
    [property: JsonPropertyName("ip")] string? Ip,
    [property: JsonPropertyName("user_agent")] string? UserAgent,
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("details")] string? Details,
    [property: JsonPropertyName("prev_hash")] string PrevHash,
    [property: JsonPropertyName("hash")] string Hash,
    [property: JsonPropertyName("format")] long Format,
    [property: JsonPropertyName("salts")] string? Salts,
    [property: JsonPropertyName("redacted")] string? Redacted)
{
    public const int CurrentVersion = 2;

    public static AuditStreamLine From(AuditRow r) =>
        new(CurrentVersion, r.OrgId, r.Seq, r.Id, r.Ts, r.Event, r.ActorId, r.UserId, r.Email, r.SessionId, r.Ip, r.UserAgent, r.Outcome, r.Details, r.PrevHash,
            r.Hash, r.Format, r.Salts, r.Redacted);
}
