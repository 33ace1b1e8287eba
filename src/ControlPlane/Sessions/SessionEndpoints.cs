using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.Sessions;

internal sealed record LogoutAllResult(int SessionsEnded);

internal sealed record SessionView(string Id, string UserId, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt, string? IpAddress, string? UserAgent, bool Current);

internal static class SessionEndpoints
{
    public static void MapSessionEndpoints(this RouteGroupBuilder v1)
    {
        var g = v1.MapGroup("").WithTags("Sessions");
        g.MapGet("/users/{id}/sessions", async (string id, SessionService sessions, UserService users, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                if (id != caller.UserId && !caller.IsAdmin)
                {
                    return Failure.Forbidden();
                }

                if (await users.GetAsync(caller.OrgId, id, http.RequestAborted) is null)
                {
                    return Failure.NotFound("User");
                }

                var list = await sessions.ListLiveAsync(caller.OrgId, id, http.RequestAborted);
                return Results.Ok(list.Select(s => new SessionView(s.Id, s.UserId, DateTimeOffset.FromUnixTimeMilliseconds(s.CreatedAt),
                    DateTimeOffset.FromUnixTimeMilliseconds(s.LastSeenAt), s.Ip, s.UserAgent, s.Id == caller.SessionId)));
            })
            .Produces<List<SessionView>>().WithSummary("List a user's live sessions (self or mod)");
        g.MapDelete("/sessions/{sid}", async (string sid, SessionService sessions, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                var mine = (await sessions.ListLiveAsync(caller.OrgId, caller.UserId, http.RequestAborted)).Any(s => s.Id == sid);
                if (!mine && !caller.IsAdmin)
                {
                    return Failure.NotFound("Session");
                }

                return await sessions.EndAsync(caller.OrgId, sid, EndReasons.Ended, AuditEvents.SessionEnded, caller.UserId, caller.Client, http.RequestAborted)
                    ? Results.NoContent() : Failure.NotFound("Session");
            })
            .Produces(204).WithSummary("End one session (own, or any in the org for mod)");
        g.MapPost("/users/{id}/logout-all", async (string id, SessionService sessions, UserService users, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                if (id != caller.UserId && !caller.IsAdmin)
                {
                    return Failure.Forbidden();
                }

                if (await users.GetAsync(caller.OrgId, id, http.RequestAborted) is null)
                {
                    return Failure.NotFound("User");
                }

                var ended = await sessions.EndAllAsync(caller.OrgId, id, EndReasons.LogoutAll, caller.UserId, caller.Client, http.RequestAborted);
                return Results.Ok(new LogoutAllResult(ended));
            })
            .Produces<LogoutAllResult>().WithSummary("End all of a user's sessions (self or mod)");
        v1.MapOrgSessionEndpoints();
    }
}
