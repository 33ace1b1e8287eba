using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Mfa;

namespace Authio.ControlPlane.Audit;

/// <summary>The public JSON shape of an audit event.</summary>
internal sealed record AuditEventView(string Id, DateTimeOffset Timestamp, string Event, string OrgId, string? ActorId, string? UserId,
    string? Email, string? IpAddress, string? UserAgent, string? SessionId, string Outcome, Dictionary<string, string?>? Details)
{
    /// <summary>Chain position and links, so an export can be verified offline (see docs/audit-verify.py).</summary>
    public long Seq { get; init; }
    public long Ts { get; init; }
    public string? RawDetails { get; init; }
    public string PrevHash { get; init; } = "";
    public string Hash { get; init; } = "";

    /// <summary>Chain format (1 or 2, see AuditHashing) with format 2's salts and erased fields' commitments (stored JSON texts).</summary>
    public long Format { get; init; }
    public string? Salts { get; init; }
    public string? Redacted { get; init; }

    public static AuditEventView From(AuditRow r) => new(r.Id, DateTimeOffset.FromUnixTimeMilliseconds(r.Ts), r.Event, r.OrgId, r.ActorId, r.UserId,
        r.Email, r.Ip, r.UserAgent, r.SessionId, r.Outcome, r.Details is null ? null : JsonSerializer.Deserialize<Dictionary<string, string?>>(r.Details))
    {
        Seq = r.Seq, Ts = r.Ts, RawDetails = r.Details, PrevHash = r.PrevHash, Hash = r.Hash, Format = r.Format, Salts = r.Salts, Redacted = r.Redacted,
    };
}

/// <summary>An export line carrying a signed checkpoint or retention cut (compact JWS, ES256).</summary>
internal sealed record AuditSealView(string Seal, long ThroughSeq, string Jws);

internal sealed record AuditPage(IReadOnlyList<AuditEventView> Items, string? NextCursor);

internal static class AuditEndpoints
{
    private const int MaxLimit = 500;

    public static void MapAuditEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapSignInStatsEndpoints();
        var g = v1.MapGroup("/audit-events").WithTags("Audit").AddEndpointFilter<AdminFilter>();
        g.MapGet("/", async (string? @event, string? outcome, string? userId, string? actorId, string? sessionId, DateTimeOffset? from, DateTimeOffset? to, string? cursor,
                [Range(0, long.MaxValue)] long? after, [Range(1, MaxLimit)] int? limit,
                AuditStore store, HttpContext http) =>
            {
                var org = Caller.Of(http).OrgId;
                long? before = null;
                if (cursor is not null)
                {
                    if (!long.TryParse(cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var c))
                    {
                        return Failure.Invalid("cursor", "is not a cursor returned by this endpoint.");
                    }

                    before = c;
                }
                var take = Math.Clamp(limit ?? 100, 1, MaxLimit);
                var rows = await store.QueryAsync(org, @event, outcome, userId, sessionId, from, to, before, take + 1, newestFirst: true, http.RequestAborted, actorId, after);
                var page = rows.Take(take).Select(AuditEventView.From).ToList();
                var next = rows.Count > take ? rows[take - 1].Seq.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
                return Results.Ok(new AuditPage(page, next));
            })
            .Produces<AuditPage>().WithSummary("Audit events, newest first; filter by event, outcome, userId, actorId, sessionId, from, to; after=<seq> for only newer events (a live tail); page with cursor (mod)");
        g.MapGet("/export", async (string? @event, string? outcome, string? userId, string? actorId, string? sessionId, DateTimeOffset? from, DateTimeOffset? to, AuditStore store,
                AuditSeals seals, HttpContext http) =>
            {
                var org = Caller.Of(http).OrgId;
                http.Response.ContentType = "application/x-ndjson";
                // Seals first (read before the events, so every checkpoint's event is in the export), one line each.
                foreach (var seal in await seals.ListAsync(org, http.RequestAborted))
                {
                    await http.Response.WriteAsync(JsonSerializer.Serialize(new AuditSealView(seal.Kind, seal.ThroughSeq, seal.Jws), JsonSerializerOptions.Web) + "\n", http.RequestAborted);
                }

                long after = 0;
                while (true)
                {
                    var rows = await store.QueryAsync(org, @event, outcome, userId, sessionId, from, to, after, MaxLimit, newestFirst: false, http.RequestAborted, actorId);
                    foreach (var r in rows)
                    {
                        await http.Response.WriteAsync(JsonSerializer.Serialize(AuditEventView.From(r), JsonSerializerOptions.Web) + "\n", http.RequestAborted);
                    }
                    await http.Response.Body.FlushAsync(http.RequestAborted);
                    if (rows.Count < MaxLimit)
                    {
                        break;
                    }

                    after = rows[^1].Seq;
                }
                return Results.Empty;
            })
            .RequireStepUp("audit.export").Produces<AuditEventView>(200, "application/x-ndjson")
            .WithSummary("Stream the org's signed checkpoints and retention cuts ({seal, throughSeq, jws}), then matching audit events as NDJSON, oldest first (mod)");
        g.MapGet("/verify", async (AuditSeals seals, HttpContext http) => Results.Ok(await seals.VerifyAsync(Caller.Of(http).OrgId, http.RequestAborted)))
            .Produces<AuditVerification>()
            .WithSummary("Check the org's keyed hash chain against its signed checkpoints and retention cuts; report the first bad position (mod)");
    }
}
