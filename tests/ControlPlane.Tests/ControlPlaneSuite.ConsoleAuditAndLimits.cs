using System.Net;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;

namespace Authio.ControlPlane.Tests;

/// <summary>The two reads the console's audit and rate-limit views need beyond the basics: a live tail and a dry run.</summary>
public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task Audit_events_filter_by_actor_and_tail_after_a_position()
    {
        var admin = await F.AdminAsync();
        var adminId = Jwt(admin.Access).Subject;
        var (userId, _) = await F.CreateUserAsync("explore", admin);
        var page = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?limit=1", admin.Access)).BodyAsync(HttpStatusCode.OK);
        var head = (long)page["items"]![0]!["seq"]!;

        // Nothing newer than the head yet; one action later, exactly that action.
        var none = await (await F.SendAsync(HttpMethod.Get, $"/v1/audit-events?after={head}", admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Empty(none["items"]!.AsArray());
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{userId}/logout-all", admin.Access)).BodyAsync(HttpStatusCode.OK);
        var tail = (await (await F.SendAsync(HttpMethod.Get, $"/v1/audit-events?after={head}", admin.Access)).BodyAsync(HttpStatusCode.OK))["items"]!.AsArray();
        var latest = Assert.Single(tail);
        Assert.Equal("force_logout", (string?)latest!["event"]);
        Assert.True((long)latest["seq"]! > head);

        // By actor: the admin's actions only; a stranger's id matches nothing.
        var mine = (await (await F.SendAsync(HttpMethod.Get, $"/v1/audit-events?actorId={adminId}&limit=500", admin.Access)).BodyAsync(HttpStatusCode.OK))["items"]!.AsArray();
        Assert.NotEmpty(mine);
        Assert.All(mine, e => Assert.Equal(adminId, (string?)e!["actorId"]));
        var nobody = await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?actorId=usr_nobody", admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Empty(nobody["items"]!.AsArray());

        await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?after=-1", admin.Access)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }

    [SuiteFact]
    public async Task A_rate_limit_is_validated_with_the_edges_parser_without_storing_it()
    {
        var admin = await F.AdminAsync();
        var orgA = Jwt(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        var (_, email) = await F.CreateUserAsync("explore", admin);
        var explorer = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var path = $"/v1/orgs/{orgA}/rate-limits/validate";
        var audited = (await AuditEventsAsync(admin.Access, "event=org_rate_limit_changed")).Count;

        // Any member may ask (it changes nothing); the answer is the text as the edge would store it.
        var ok = await (await F.SendAsync(HttpMethod.Post, path, explorer.Access, new { @default = "  10/1s   burst 20  per org " })).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("10/1s burst 20 per org", (string?)ok["default"]);
        Assert.Null((await (await F.SendAsync(HttpMethod.Post, path, explorer.Access, new { @default = "" })).BodyAsync(HttpStatusCode.OK))["default"]);

        // A bad limit: the same 400 and parser message as saving it would give.
        var problem = await (await F.SendAsync(HttpMethod.Post, path, explorer.Access, new { @default = "10/1x" }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var saved = await (await F.SendAsync(HttpMethod.Put, $"/v1/orgs/{orgA}/rate-limits", admin.Access, new { @default = "10/1x" }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Contains("period", (string)problem["errors"]!["default"]![0]!, StringComparison.Ordinal);
        Assert.Equal((string?)saved["errors"]!["default"]![0], (string?)problem["errors"]!["default"]![0]);

        // Nothing stored, nothing audited; another org is not found.
        Assert.Null((await (await F.SendAsync(HttpMethod.Get, $"/v1/orgs/{orgA}/rate-limits", admin.Access)).BodyAsync(HttpStatusCode.OK))["default"]);
        Assert.Equal(audited, (await AuditEventsAsync(admin.Access, "event=org_rate_limit_changed")).Count);
        var (orgB, _) = await OtherOrgAsync(admin);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/orgs/{orgB}/rate-limits/validate", admin.Access, new { @default = "1/1s" }))
            .ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Post, path, null, new { @default = "1/1s" })).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
    }
}
