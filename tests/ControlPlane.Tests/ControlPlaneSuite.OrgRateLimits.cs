using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Hosting;
using Authio.Shared.Errors;
using Authio.Shared.Sync;
using Authio.Shared.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    private static string RateLimitsPath(string orgId) => $"/v1/orgs/{orgId}/rate-limits";

    private async Task<JsonNode> PutRateLimitAsync(string token, string orgId, string? limit, HttpStatusCode expected = HttpStatusCode.OK) =>
        await (await F.SendAsync(HttpMethod.Put, RateLimitsPath(orgId), token, new { @default = limit })).BodyAsync(expected);

    private static List<JsonNode> OrgRateLimitChanges(JsonNode batch) =>
        Changes(batch).Where(c => (string)c["type"]! == EdgeChangeTypes.OrgRateLimit).ToList();

    [SuiteFact]
    public async Task Org_rate_limit_is_set_read_and_cleared_by_the_orgs_mods()
    {
        var admin = await F.AdminAsync();
        var orgA = Jwt(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        var (_, email) = await F.CreateUserAsync("explore", admin);
        var explorer = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);

        var audited = (await AuditEventsAsync(admin.Access, "event=org_rate_limit_changed")).Count;
        var none = await (await F.SendAsync(HttpMethod.Get, RateLimitsPath(orgA), explorer.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(orgA, (string?)none["org_id"]);
        Assert.Null(none["default"]);

        // Only a mod (or the admin scope) may change it; any member may read it.
        await (await F.SendAsync(HttpMethod.Put, RateLimitsPath(orgA), explorer.Access, new { @default = "1000/1s" }))
            .ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await F.SendAsync(HttpMethod.Put, RateLimitsPath(orgA), null, new { @default = "1000/1s" }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);

        var set = await PutRateLimitAsync(admin.Access, orgA, "  100/1s   burst 200 per org ");
        Assert.Equal("100/1s burst 200 per org", (string?)set["default"]); // stored as the edge parses it
        var read = await (await F.SendAsync(HttpMethod.Get, RateLimitsPath(orgA), explorer.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("100/1s burst 200 per org", (string?)read["default"]);

        Assert.Equal(audited + 1, (await AuditEventsAsync(admin.Access, "event=org_rate_limit_changed")).Count);

        // Another org is not found, whether reading or writing (the caller's token belongs to one org).
        var (orgB, modB) = await OtherOrgAsync(admin);
        await (await F.SendAsync(HttpMethod.Get, RateLimitsPath(orgB), admin.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Put, RateLimitsPath(orgB), admin.Access, new { @default = "1/1h" }))
            .ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Put, RateLimitsPath(orgA), modB.Access, new { @default = "1/1h" }))
            .ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        Assert.Null((await (await F.SendAsync(HttpMethod.Get, RateLimitsPath(orgB), modB.Access)).BodyAsync(HttpStatusCode.OK))["default"]);
        Assert.Equal("100/1s burst 200 per org", (string?)(await PutRateLimitAsync(admin.Access, orgA, "100/1s burst 200 per org"))["default"]);

        // Setting the same limit again changes nothing and is not audited twice; null and "" clear it.
        Assert.Equal(audited + 1, (await AuditEventsAsync(admin.Access, "event=org_rate_limit_changed")).Count);
        Assert.Null((await PutRateLimitAsync(admin.Access, orgA, null))["default"]);
        Assert.Null((await (await F.SendAsync(HttpMethod.Get, RateLimitsPath(orgA), admin.Access)).BodyAsync(HttpStatusCode.OK))["default"]);
        await PutRateLimitAsync(admin.Access, orgA, "5/1m");
        Assert.Null((await PutRateLimitAsync(admin.Access, orgA, ""))["default"]);
        Assert.Equal(audited + 4, (await AuditEventsAsync(admin.Access, "event=org_rate_limit_changed")).Count);
        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM org_rate_limits WHERE org_id = @orgA", new { orgA }));
    }

    [SuiteFact]
    public async Task A_bad_org_rate_limit_is_refused_naming_the_field_and_changes_nothing()
    {
        var admin = await F.AdminAsync();
        var orgA = Jwt(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        await PutRateLimitAsync(admin.Access, orgA, "50/1s");
        try
        {
            foreach (var (limit, mentions) in new[]
            {
                ("lots", "count"), ("0/1s", "count"), ("10/1x", "period"), ("10/99999999999999h", "period"), ("10/1s per team", "per"),
                ("10/1s global burst 5", "unexpected"),
            })
            {
                var problem = await (await F.SendAsync(HttpMethod.Put, RateLimitsPath(orgA), admin.Access, new { @default = limit }))
                    .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
                Assert.Contains("'default'", (string?)problem["detail"], StringComparison.Ordinal);
                var message = (string)problem["errors"]!["default"]![0]!;
                Assert.Contains(mentions, message, StringComparison.OrdinalIgnoreCase);
                Assert.Contains("<count>/<period>", message, StringComparison.Ordinal);
                Assert.Equal("50/1s", (string?)(await (await F.SendAsync(HttpMethod.Get, RateLimitsPath(orgA), admin.Access)).BodyAsync(HttpStatusCode.OK))["default"]);
            }
        }
        finally
        {
            await PutRateLimitAsync(admin.Access, orgA, null);
        }
    }

    [SuiteFact]
    public async Task Org_rate_limits_reach_every_edge_through_the_change_log_and_the_snapshot()
    {
        var admin = await F.AdminAsync();
        var orgA = Jwt(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        var edge = await EdgeKeyAsync(admin);
        var (orgB, modB) = await OtherOrgAsync(admin);
        var options = F.Services.GetRequiredService<ControlPlaneOptions>();
        var before = options.ApiKeys.EdgeOrgIds;
        // An edge scoped to org A still receives org B's limit: limits are not secret, and every edge serves every org's callers.
        options.ApiKeys.EdgeOrgIds = [orgA];
        try
        {
            var start = (long)(await SnapshotAsync(edge))["sequence"]!;
            await PutRateLimitAsync(modB.Access, orgB, "10/1m per subject");
            await PutRateLimitAsync(admin.Access, orgA, "100/1s burst 200 per org");

            var changes = OrgRateLimitChanges(await ChangesAsync(edge, start));
            Assert.Equal([(orgB, "10/1m per subject"), (orgA, "100/1s burst 200 per org")],
                changes.Select(c => ((string)c["org_settings"]!["org_id"]!, (string?)c["org_settings"]!["rate_limit"])));
            Assert.All(changes, c => Assert.Null(c["revocation"]));
            Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM edge_changes WHERE type = 'org_rate_limit' AND org_id = @orgB", new { orgB }));

            var snapshot = await SnapshotAsync(edge);
            var settings = snapshot["org_settings"]!.AsArray().ToDictionary(o => (string)o!["org_id"]!, o => (string?)o!["rate_limit"]);
            Assert.Equal("10/1m per subject", settings[orgB]);
            Assert.Equal("100/1s burst 200 per org", settings[orgA]);

            // Clearing is a change too (rate_limit null), and the org leaves the snapshot.
            var cleared = (long)(await SnapshotAsync(edge))["sequence"]!;
            await PutRateLimitAsync(modB.Access, orgB, null);
            var clear = Assert.Single(OrgRateLimitChanges(await ChangesAsync(edge, cleared)));
            Assert.Equal(orgB, (string?)clear["org_settings"]!["org_id"]);
            Assert.Null(clear["org_settings"]!["rate_limit"]);
            Assert.DoesNotContain(orgB, (await SnapshotAsync(edge))["org_settings"]!.AsArray().Select(o => (string)o!["org_id"]!));

            // What an edge's client reads: the shared contracts.
            var batch = (await (await F.SendAsync(HttpMethod.Get, $"{EdgeSyncPaths.Changes}?after={start}&wait=0", edge)).Content.ReadFromJsonAsync<EdgeChangeBatch>())!;
            Assert.Equal([new EdgeOrgSettings(orgB, "10/1m per subject"), new EdgeOrgSettings(orgA, "100/1s burst 200 per org"), new EdgeOrgSettings(orgB, null)],
                batch.Changes.Where(c => c.Type == EdgeChangeTypes.OrgRateLimit).Select(c => c.OrgSettings));
            var typed = (await (await F.SendAsync(HttpMethod.Get, EdgeSyncPaths.Snapshot, edge)).Content.ReadFromJsonAsync<EdgeSnapshot>())!;
            Assert.Contains(new EdgeOrgSettings(orgA, "100/1s burst 200 per org"), typed.OrgSettings!);

            // Pruning removes superseded limits only: org B's first change goes (the clear is its latest), org A's latest stays.
            await F.Services.GetRequiredService<MaintenanceService>().RunOnceAsync(CancellationToken.None);
            Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM edge_changes WHERE type = 'org_rate_limit' AND org_id = @orgB", new { orgB }));
            Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM edge_changes WHERE type = 'org_rate_limit' AND org_id = @orgA", new { orgA }));
            Assert.True((bool)(await ChangesAsync(edge, start))["reset"]!);
        }
        finally
        {
            options.ApiKeys.EdgeOrgIds = before;
            await PutRateLimitAsync(admin.Access, orgA, null);
        }
    }
}
