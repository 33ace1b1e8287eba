using System.Text.Json.Serialization;
using Authio.ControlPlane.Audit;

namespace Authio.ControlPlane.AuditStreams;

/// <summary>
/// One audit event on a stream (one NDJSON line), version 1: the stored row with its chain links. <c>details</c> is the
/// stored JSON text itself, so a receiver recomputes <c>hash</c> exactly (<see cref="AuditLog.HashOf"/>: SHA-256 of the
/// JSON array <c>[org_id, id, ts, event, actor_id, user_id, email, session_id, ip, user_agent, outcome, details, prev_hash]</c>)
/// and checks each line's <c>prev_hash</c> against the org's previous line.
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
    [property: JsonPropertyName("hash")] string Hash)
{
    public static AuditStreamLine From(AuditRow r) =>
        new(1, r.OrgId, r.Seq, r.Id, r.Ts, r.Event, r.ActorId, r.UserId, r.Email, r.SessionId, r.Ip, r.UserAgent, r.Outcome, r.Details, r.PrevHash, r.Hash);
}
