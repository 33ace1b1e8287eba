using System.ComponentModel.DataAnnotations;
using Authio.ControlPlane.ApiKeys;
using Authio.Shared.Sync;

namespace Authio.ControlPlane.EdgeSync;

internal static class EdgeSyncEndpoints
{
    /// <summary>The feed, behind the same <c>edge:sync</c> key filter as the API-key lookups.</summary>
    public static void MapEdgeSyncEndpoints(this IEndpointRouteBuilder app)
    {
        var edge = app.MapGroup("").WithTags("Edge").AddEndpointFilter<EdgeKeyFilter>();
        edge.MapGet(EdgeSyncPaths.Snapshot, async (EdgeSyncService sync, HttpContext http) =>
            {
                http.Response.Headers.CacheControl = "no-store";
                return Results.Ok(await sync.SnapshotAsync(http.RequestAborted));
            })
            .Produces<EdgeSnapshot>().WithSummary("Issuer, audiences, JWKS and every live revocation of the allowed orgs, as of one sequence number (edge:sync key)");
        edge.MapGet(EdgeSyncPaths.Changes, async ([Range(0, long.MaxValue)] long? after, [Range(0, EdgeSyncService.MaxWaitSeconds)] int? wait, EdgeSyncService sync, HttpContext http) =>
            {
                http.Response.Headers.CacheControl = "no-store";
                var seconds = Math.Min(wait ?? EdgeSyncService.DefaultWaitSeconds, EdgeSyncService.MaxWaitSeconds);
                return Results.Ok(await sync.ChangesAsync(after ?? 0, seconds, http.RequestAborted));
            })
            .Produces<EdgeChangeBatch>().WithSummary("Changes after a sequence number in order; long-polls up to wait seconds (default 25, max 30) (edge:sync key)");
    }
}
