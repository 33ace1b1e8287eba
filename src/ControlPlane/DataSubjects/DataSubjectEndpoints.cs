using Authio.ControlPlane.Api;
using Authio.ControlPlane.Mfa;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.DataSubjects;

internal static class DataSubjectEndpoints
{
    public static void MapDataSubjectEndpoints(this RouteGroupBuilder v1)
    {
        // A person's whole record leaves, or is destroyed, through these: mods only, and with step-up where data leaves or goes.
        var g = v1.MapGroup("/users").WithTags("Data-subject requests").AddEndpointFilter<AdminFilter>();
        g.MapPost("/{id}/export", async (string id, DataSubjectService subjects, HttpContext http) =>
                (await subjects.ExportAsync(Caller.Of(http), id, http.RequestAborted))
                    .ToResult(e => Results.Accepted($"/v1/users/{id}/exports/{e.Id}", e)))
            .Produces<DataExportView>(202).ProducesProblem(404)
            .WithSummary("Export everything the org holds about a person as NDJSON (profile, memberships, roles, sessions, MFA methods without secrets, API keys' metadata, audit events about them); download it once from download_url (mod)");
        g.MapGet("/{id}/exports/{exportId}", async (string id, string exportId, DataSubjectService subjects, HttpContext http) =>
                (await subjects.GetExportAsync(Caller.Of(http).OrgId, id, exportId, http.RequestAborted)).ToResult(Results.Ok))
            .Produces<DataExportView>().ProducesProblem(404).WithSummary("An export's state: ready, downloaded or expired (mod)");
        g.MapGet("/{id}/exports/{exportId}/download", async (string id, string exportId, DataSubjectService subjects, HttpContext http) =>
                (await subjects.DownloadAsync(Caller.Of(http), id, exportId, http.RequestAborted))
                    .ToResult(content =>
                    {
                        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{exportId}.ndjson\"";
                        http.Response.Headers.CacheControl = "no-store";
                        return Results.Bytes(content, "application/x-ndjson");
                    }))
            .RequireStepUp("user.export.download").Produces(200, contentType: "application/x-ndjson").ProducesProblem(404)
            .ProducesCodes(410, ErrorCodes.ExportGone)
            .WithSummary("The export's NDJSON, once: its content is deleted as it is handed out (mod, step-up)");
        g.MapDelete("/{id}", async (string id, bool? erase, DataSubjectService subjects, HttpContext http) =>
            {
                if (erase != true)
                {
                    return Failure.Invalid("erase",
                        "Deleting a user erases their personal data for good: pass erase=true. To keep the record, deactivate the user instead.");
                }

                return (await subjects.EraseAsync(Caller.Of(http), id, http.RequestAborted)).ToResult(Results.Ok);
            })
            .RequireStepUp("user.erase").Produces<ErasureReport>().ProducesProblem(404).ProducesProblem(409)
            .WithSummary("Erase a person (erase=true): their data in the org deleted, sessions and API keys revoked at the edges, audit events about them redacted (the chain still verifies); their identity too when no other org holds them (mod, step-up)");
    }
}
