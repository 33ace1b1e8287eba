using System.ComponentModel.DataAnnotations;
using Authio.ControlPlane.Api;

namespace Authio.ControlPlane.Teams;

internal sealed record TeamRequest([property: Required, StringLength(100)] string? Name);

internal static class TeamEndpoints
{
    public static void MapTeamEndpoints(this RouteGroupBuilder v1)
    {
        var g = v1.MapGroup("/teams").WithTags("Teams");
        g.MapGet("/", async (TeamService teams, HttpContext http) => Results.Ok(await teams.ListAsync(Caller.Of(http).OrgId, http.RequestAborted)))
            .Produces<List<TeamView>>().WithSummary("List teams");
        g.MapGet("/{id}", async (string id, TeamService teams, HttpContext http) =>
                await teams.GetAsync(Caller.Of(http).OrgId, id, http.RequestAborted) is { } t ? Results.Ok(t) : Failure.NotFound("Team"))
            .Produces<TeamView>().WithSummary("Get a team with its members");
        g.MapPost("/", async (TeamRequest body, TeamService teams, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                return (await teams.CreateAsync(caller.OrgId, body.Name, caller, http.RequestAborted)).ToResult(t => Results.Created($"/v1/teams/{t.Id}", t));
            })
            .AddEndpointFilter<AdminFilter>().Produces<TeamView>(201).ProducesProblem(409).WithSummary("Create a team (mod)");
        g.MapPatch("/{id}", async (string id, TeamRequest body, TeamService teams, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                return (await teams.RenameAsync(caller.OrgId, id, body.Name, caller, http.RequestAborted)).ToResult(Results.Ok);
            })
            .AddEndpointFilter<AdminFilter>().Produces<TeamView>().ProducesProblem(409).WithSummary("Rename a team (mod)");
        g.MapDelete("/{id}", async (string id, TeamService teams, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                return await teams.DeleteAsync(caller.OrgId, id, caller, http.RequestAborted) ? Results.NoContent() : Failure.NotFound("Team");
            })
            .AddEndpointFilter<AdminFilter>().Produces(204).WithSummary("Delete a team (mod)");
        g.MapPut("/{id}/members/{userId}", async (string id, string userId, TeamService teams, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                return (await teams.SetMemberAsync(caller.OrgId, id, userId, add: true, caller, http.RequestAborted)).ToResult(Results.Ok);
            })
            .AddEndpointFilter<AdminFilter>().Produces<TeamView>().WithSummary("Add a member (mod)");
        g.MapDelete("/{id}/members/{userId}", async (string id, string userId, TeamService teams, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                return (await teams.SetMemberAsync(caller.OrgId, id, userId, add: false, caller, http.RequestAborted)).ToResult(Results.Ok);
            })
            .AddEndpointFilter<AdminFilter>().Produces<TeamView>().WithSummary("Remove a member (mod)");
    }
}
