using Authio.ControlPlane.ApiKeys;
using Authio.ControlPlane.Orgs;
using Authio.Shared.Fleet;

namespace Authio.ControlPlane.Fleet;

internal static class FleetEndpoints
{
    /// <summary><c>GET /v1/edges</c>: the fleet, for platform operators (403 <c>forbidden</c> for everyone else).</summary>
    public static void MapFleetEndpoints(this RouteGroupBuilder v1) =>
        v1.MapGet("/edges", async (FleetService fleet, HttpContext http) => Results.Ok(await fleet.ListAsync(http.RequestAborted)))
            .AddEndpointFilter<OperatorFilter>().WithTags("Platform").Produces<FleetView>().ProducesProblem(403)
            .WithSummary("Every edge heard from lately: version, last seen, stale after 3 silent report intervals, feed position and lag, key-set age, per-route requests and p50/p95/p99 of its latest report (operator)");

    /// <summary>Called by edges with their own <c>edge:sync</c> key (a key without it: 403), outside the access-token group.</summary>
    public static void MapEdgeFleetEndpoints(this IEndpointRouteBuilder app) =>
        app.MapPost(FleetPaths.Report, async (EdgeStatusReport body, FleetService fleet, HttpContext http) =>
                await fleet.ReportAsync(EdgeCaller.Of(http), body, http.RequestAborted) is { } failure ? (IResult)failure : Results.NoContent())
            .AddEndpointFilter<EdgeKeyFilter>().WithTags("Edge").Produces(204).ProducesProblem(400).ProducesProblem(403)
            .WithSummary("An edge's status: id, version, feed position and lag, key-set age, per-route requests and latency percentiles (edge:sync key)");
}
