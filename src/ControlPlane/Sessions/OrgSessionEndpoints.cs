using System.ComponentModel.DataAnnotations;
using Authio.ControlPlane.Api;

namespace Authio.ControlPlane.Sessions;

internal static class OrgSessionEndpoints
{
    private const int DefaultPage = 50;

    public static void MapOrgSessionEndpoints(this RouteGroupBuilder v1)
    {
        var g = v1.MapGroup("/sessions").WithTags("Sessions");
        g.MapGet("/", async Task<IResult> ([Range(1, Paging.MaxLimit)] int? limit, [StringLength(Paging.MaxCursorLength)] string? cursor,
                SessionPropagation sessions, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                (long, string)? before = null;
                if (cursor is not null)
                {
                    if (Paging.Keys(cursor, "sessions", 2) is not [var created, var id] || !Paging.TryLong(created, out var createdAt))
                    {
                        return Failure.Invalid("cursor", Paging.BadCursor);
                    }

                    before = (createdAt, id);
                }

                var take = limit ?? DefaultPage;
                var rows = await sessions.PageAsync(caller.OrgId, before, take + 1, http.RequestAborted);
                var page = rows.Take(take).ToList();
                Paging.Next(http, rows.Count > take
                    ? Paging.Cursor("sessions", page[^1].CreatedAt.ToString(System.Globalization.CultureInfo.InvariantCulture), page[^1].Id) : null);
                return Results.Ok(page.Select(s => new OrgSessionView(s.Id, s.UserId, s.Email, DateTimeOffset.FromUnixTimeMilliseconds(s.CreatedAt),
                    DateTimeOffset.FromUnixTimeMilliseconds(s.LastSeenAt), s.Ip, s.UserAgent, s.Id == caller.SessionId)));
            })
            .AddEndpointFilter<AdminFilter>().Produces<List<OrgSessionView>>()
            .WithSummary("The org's live sessions, newest first, with each user's email; limit (1-200, default 50), cursor from Link rel=\"next\" (mod)");
        g.MapGet("/{sid}/revocation", async (string sid, SessionPropagation sessions, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                return await sessions.StatusAsync(caller.OrgId, sid, caller.IsAdmin ? null : caller.UserId, http.RequestAborted) is { } status
                    ? Results.Ok(status) : Failure.NotFound("Session");
            })
            .Produces<RevocationStatusView>().ProducesProblem(404)
            .WithSummary("Whether the edges have applied an ended session's revocation: its change-log position and how many online edges are at or past it (own session, or mod)");
    }
}
