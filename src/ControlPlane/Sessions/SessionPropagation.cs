using System.Text.Json.Serialization;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Fleet;
using Authio.ControlPlane.Storage;

namespace Authio.ControlPlane.Sessions;

/// <summary>A live session in the org-wide list: <see cref="SessionView"/> plus the user's email.</summary>
internal sealed record OrgSessionView(string Id, string UserId, string Email, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt,
    string? IpAddress, string? UserAgent, bool Current);

/// <summary>
/// Whether the edges have taken an ended session's revocation. Only counts: the org learns how many edges are online
/// and how many have applied the change-log entry that revokes its session, never edge ids, versions or other orgs' data.
/// </summary>
/// <param name="Sequence">The change-log position of the session's <c>sid</c> revocation; null while the session is live,
/// or once the revocation has been pruned (it outlived every token it could refuse).</param>
/// <param name="Confirmed">Ended, and every online edge reports a feed position at or past <paramref name="Sequence"/>
/// (or nothing is left to refuse). False when no edge is online: nothing confirms it.</param>
internal sealed record RevocationStatusView(
    [property: JsonPropertyName("session_id")] string SessionId,
    [property: JsonPropertyName("ended_at")] DateTimeOffset? EndedAt,
    [property: JsonPropertyName("sequence")] long? Sequence,
    [property: JsonPropertyName("edges_online")] int EdgesOnline,
    [property: JsonPropertyName("edges_confirmed")] int EdgesConfirmed,
    [property: JsonPropertyName("confirmed")] bool Confirmed);

/// <summary>The org-wide session list and the edge confirmation of a session's end.</summary>
internal sealed class SessionPropagation(Db db, FleetService fleet)
{
    public Task<List<OrgSessionRow>> PageAsync(string orgId, (long CreatedAt, string Id)? before, int limit, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => SessionStore.LiveOfOrgPageAsync(c, tx, orgId, before, limit), ct);

    /// <summary>The session's revocation status, or null when the org has no such session (or, for <paramref name="onlyUserId"/>, not theirs).</summary>
    public async Task<RevocationStatusView?> StatusAsync(string orgId, string sessionId, string? onlyUserId, CancellationToken ct)
    {
        var found = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            var s = await SessionStore.GetAsync(c, tx, orgId, sessionId);
            return s is null ? default : (Row: s, Seq: s.EndedAt is null ? null : await EdgeChangeStore.RevocationSequenceAsync(c, tx, orgId, "sid", sessionId));
        }, ct);
        if (found.Row is null || (onlyUserId is not null && found.Row.UserId != onlyUserId))
        {
            return null;
        }

        var online = await fleet.OnlineFeedPositionsAsync(ct);
        var ended = found.Row.EndedAt is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : (DateTimeOffset?)null;
        if (ended is null)
        {
            return new RevocationStatusView(sessionId, null, null, online.Count, 0, false);
        }

        // Pruned: the revocation expired with the last token it could refuse, so every edge refuses that session anyway.
        var confirmedBy = found.Seq is { } seq ? online.Count(position => position >= seq) : online.Count;
        var confirmed = found.Seq is null || (online.Count > 0 && confirmedBy == online.Count);
        return new RevocationStatusView(sessionId, ended, found.Seq, online.Count, confirmedBy, confirmed);
    }
}
