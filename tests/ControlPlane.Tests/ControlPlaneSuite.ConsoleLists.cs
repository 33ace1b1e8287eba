using System.Net;
using System.Text.Json.Nodes;
using Authio.Shared.Errors;
using Authio.Shared.Fleet;
using Authio.Shared.Tokens;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// The lists and figures the console's overview, users, sessions and operator views read: paged and searched users,
/// the org's sessions, whether the edges applied a session's end, sign-ins per hour, every org, the platform settings.
/// </summary>
public abstract partial class ControlPlaneSuite
{
    /// <summary>Follows <c>Link: rel="next"</c> from <paramref name="path"/> (at most <paramref name="maxPages"/> pages) and returns every item.</summary>
    private async Task<(List<JsonNode> Items, int Pages)> AllPagesAsync(string path, string token, int maxPages = 200)
    {
        var items = new List<JsonNode>();
        string? next = path;
        var pages = 0;
        while (next is not null && pages < maxPages)
        {
            using var r = await F.SendAsync(HttpMethod.Get, next, token);
            items.AddRange((await r.BodyAsync(HttpStatusCode.OK)).AsArray().Select(i => i!));
            pages++;
            next = r.Headers.TryGetValues("Link", out var links) ? NextLink(links.Single()) : null;
        }

        Assert.Null(next);
        return (items, pages);
    }

    private static string NextLink(string link)
    {
        Assert.EndsWith("; rel=\"next\"", link, StringComparison.Ordinal);
        Assert.StartsWith("</v1/", link, StringComparison.Ordinal);
        return link[1..link.IndexOf('>', StringComparison.Ordinal)];
    }

    [SuiteFact]
    public async Task Users_are_searched_and_paged_on_the_server_in_email_order()
    {
        var admin = await F.AdminAsync();
        var tag = "pg" + Guid.NewGuid().ToString("N")[..10];
        var emails = new[] { $"c.{tag}@acme.test", $"a.{tag}@acme.test", $"b.{tag}@acme.test" };
        foreach (var email in emails)
        {
            await (await F.SendAsync(HttpMethod.Post, "/v1/users", admin.Access, new { email, password = ControlPlaneFixture.DefaultPassword, role = "explore" }))
                .BodyAsync(HttpStatusCode.Created);
        }

        // Any member may list; a search in capitals finds the lower-case emails; two per page, in email order.
        var explorer = await F.LoginOkAsync(emails[0], ControlPlaneFixture.DefaultPassword);
        using (var first = await F.SendAsync(HttpMethod.Get, $"/v1/users?q={tag.ToUpperInvariant()}&limit=2", explorer.Access))
        {
            var page = (await first.BodyAsync(HttpStatusCode.OK)).AsArray();
            Assert.Equal([$"a.{tag}@acme.test", $"b.{tag}@acme.test"], page.Select(u => (string)u!["email"]!));
            Assert.True(first.Headers.Contains("Link"));
        }

        var (all, pages) = await AllPagesAsync($"/v1/users?q={tag}&limit=2", explorer.Access);
        Assert.Equal(2, pages);
        Assert.Equal(emails.Order(StringComparer.Ordinal), all.Select(u => (string)u["email"]!));

        // Every member, page by page, exactly once each (the suite's org holds every earlier test's users, so 7 a page);
        // without paging parameters the whole array as before.
        var (everyone, _) = await AllPagesAsync("/v1/users?limit=7", admin.Access);
        var whole = (await (await F.SendAsync(HttpMethod.Get, "/v1/users", admin.Access)).BodyAsync(HttpStatusCode.OK)).AsArray();
        Assert.Equal(whole.Select(u => (string)u!["id"]!).Order(StringComparer.Ordinal), everyone.Select(u => (string)u["id"]!).Order(StringComparer.Ordinal));
        Assert.Equal(everyone.Count, everyone.Select(u => (string)u["id"]!).Distinct().Count());

        // LIKE wildcards in the search are plain characters; by id too.
        Assert.Empty((await (await F.SendAsync(HttpMethod.Get, "/v1/users?q=%25", admin.Access)).BodyAsync(HttpStatusCode.OK)).AsArray());
        Assert.Empty((await (await F.SendAsync(HttpMethod.Get, $"/v1/users?q=a_{tag}", admin.Access)).BodyAsync(HttpStatusCode.OK)).AsArray());
        var byId = (string)all[0]["id"]!;
        Assert.Equal(byId, (string?)Assert.Single((await (await F.SendAsync(HttpMethod.Get, $"/v1/users?q={byId}", admin.Access)).BodyAsync(HttpStatusCode.OK)).AsArray())!["id"]);

        // Another org's mod finds none of them.
        var (_, _, tenantMod) = await TenantAsync(admin);
        Assert.Empty((await (await F.SendAsync(HttpMethod.Get, $"/v1/users?q={tag}", tenantMod.Access)).BodyAsync(HttpStatusCode.OK)).AsArray());

        foreach (var bad in new[] { "limit=0", "limit=201", "cursor=not-a-cursor", "cursor=%25%25" })
        {
            await (await F.SendAsync(HttpMethod.Get, $"/v1/users?{bad}", admin.Access)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        }
    }

    [SuiteFact]
    public async Task The_orgs_live_sessions_are_listed_newest_first_for_mods_only()
    {
        var admin = await F.AdminAsync();
        var (userId, email) = await F.CreateUserAsync("explore", admin);
        var older = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        F.Time.Advance(TimeSpan.FromSeconds(1));
        var newer = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);

        // One per page: a Link to the next, older one. Then every page of 50 (the suite's org collects sessions).
        using (var first = await F.SendAsync(HttpMethod.Get, "/v1/sessions?limit=1", admin.Access))
        {
            var one = Assert.Single((await first.BodyAsync(HttpStatusCode.OK)).AsArray())!;
            Assert.True(first.Headers.TryGetValues("Link", out var links));
            var second = Assert.Single((await (await F.SendAsync(HttpMethod.Get, NextLink(links!.Single()), admin.Access)).BodyAsync(HttpStatusCode.OK)).AsArray())!;
            Assert.NotEqual((string?)one["id"], (string?)second["id"]);
        }

        var (sessions, _) = await AllPagesAsync("/v1/sessions?limit=50", admin.Access, maxPages: 1000);
        Assert.Equal(sessions.Count, sessions.Select(s => (string)s["id"]!).Distinct().Count());
        var created = sessions.Select(s => DateTimeOffset.Parse((string)s["createdAt"]!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(created.OrderDescending(), created);
        var theirs = sessions.Where(s => (string?)s["userId"] == userId).ToList();
        Assert.Equal([Sid(newer.Access), Sid(older.Access)], theirs.Select(s => (string)s["id"]!));
        Assert.All(theirs, s => Assert.Equal(email, (string?)s["email"]));
        Assert.Contains(sessions, s => (bool)s["current"]! && (string?)s["id"] == Sid(admin.Access));

        // An ended session is gone from the list; a member who is not a mod may not list the org's sessions.
        await (await F.SendAsync(HttpMethod.Delete, $"/v1/sessions/{Sid(older.Access)}", admin.Access)).BodyAsync(HttpStatusCode.NoContent);
        Assert.DoesNotContain((await AllPagesAsync("/v1/sessions?limit=200", admin.Access, maxPages: 1000)).Items, s => (string?)s["id"] == Sid(older.Access));
        await (await F.SendAsync(HttpMethod.Get, "/v1/sessions", newer.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await F.SendAsync(HttpMethod.Get, "/v1/sessions?cursor=eA", admin.Access)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }

    [SuiteFact]
    public async Task A_terminated_session_is_confirmed_once_every_online_edge_reports_the_revocations_position()
    {
        // Edges other tests reported (10 s intervals) fall silent: stale edges neither confirm nor hold back.
        F.Time.Advance(TimeSpan.FromSeconds(40));
        var admin = await F.AdminAsync();
        var edgeKey = await EdgeKeyAsync(admin);
        var edgeId = "edge-" + Guid.NewGuid().ToString("N")[..8];
        var (_, email) = await F.CreateUserAsync("explore", admin);
        var (_, otherEmail) = await F.CreateUserAsync("explore", admin);
        var user = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var other = await F.LoginOkAsync(otherEmail, ControlPlaneFixture.DefaultPassword);
        var sid = Sid(user.Access);
        var path = $"/v1/sessions/{sid}/revocation";

        // Live: nothing to confirm. The user may ask about their own session; another member may not (404, as unknown).
        var live = await (await F.SendAsync(HttpMethod.Get, path, user.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Null(live["ended_at"]);
        Assert.False((bool)live["confirmed"]!);
        await (await F.SendAsync(HttpMethod.Get, path, other.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);

        await (await F.SendAsync(HttpMethod.Delete, $"/v1/sessions/{sid}", admin.Access)).BodyAsync(HttpStatusCode.NoContent);
        var ended = await (await F.SendAsync(HttpMethod.Get, path, admin.Access)).BodyAsync(HttpStatusCode.OK);
        var seq = (long)ended["sequence"]!;
        Assert.NotNull(ended["ended_at"]);
        Assert.Equal(0, (int)ended["edges_online"]!);
        Assert.False((bool)ended["confirmed"]!); // no edge online: nothing confirms it

        async Task<JsonNode> AfterReportAsync(long feedSequence)
        {
            await (await F.SendAsync(HttpMethod.Post, FleetPaths.Report, edgeKey, new
            {
                id = edgeId, version = "1.0.0", interval_seconds = 10, feed_sequence = feedSequence, feed_lag_seconds = 0.1,
                feed_transport = "http", key_set_age_seconds = 1, window_seconds = 10, routes = Array.Empty<object>(),
            })).BodyAsync(HttpStatusCode.NoContent);
            return await (await F.SendAsync(HttpMethod.Get, path, admin.Access)).BodyAsync(HttpStatusCode.OK);
        }

        var behind = await AfterReportAsync(seq - 1);
        Assert.Equal((1, 0, false), ((int)behind["edges_online"]!, (int)behind["edges_confirmed"]!, (bool)behind["confirmed"]!));
        var caughtUp = await AfterReportAsync(seq);
        Assert.Equal((1, 1, true, seq), ((int)caughtUp["edges_online"]!, (int)caughtUp["edges_confirmed"]!, (bool)caughtUp["confirmed"]!, (long)caughtUp["sequence"]!));
        // Only counts: no edge id or version reaches the org.
        Assert.DoesNotContain(edgeId, caughtUp.ToJsonString(), StringComparison.Ordinal);

        // Another org's mod: unknown.
        var (_, _, tenantMod) = await TenantAsync(admin);
        await (await F.SendAsync(HttpMethod.Get, path, tenantMod.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await F.SendAsync(HttpMethod.Get, "/v1/sessions/ses_nope/revocation", admin.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }

    [SuiteFact]
    public async Task Sign_ins_and_failures_are_counted_per_hour_for_any_member_of_the_org()
    {
        var admin = await F.AdminAsync();
        var (_, email) = await F.CreateUserAsync("explore", admin);
        var explorer = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var (_, _, tenantMod) = await TenantAsync(admin);
        async Task<JsonNode> StatsAsync(string token, string query = "") =>
            await (await F.SendAsync(HttpMethod.Get, "/v1/org/stats/sign-ins" + query, token)).BodyAsync(HttpStatusCode.OK);
        var before = await StatsAsync(explorer.Access);
        var tenantBefore = await StatsAsync(tenantMod.Access);

        await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        await (await F.LoginAsync(email, "Wrong-passw0rd!")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);

        var after = await StatsAsync(explorer.Access);
        Assert.Equal(24, (int)after["hours"]!);
        var buckets = after["buckets"]!.AsArray();
        Assert.Equal(24, buckets.Count);
        Assert.Equal((long)before["succeeded"]! + 1, (long)after["succeeded"]!);
        Assert.Equal((long)before["failed"]! + 1, (long)after["failed"]!);
        Assert.Equal((long)after["succeeded"]!, buckets.Sum(b => (long)b!["succeeded"]!));
        Assert.True((long)buckets[^1]!["succeeded"]! >= 1 && (long)buckets[^1]!["failed"]! >= 1);
        var starts = buckets.Select(b => DateTimeOffset.Parse((string)b!["start"]!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.All(starts.Zip(starts.Skip(1)), p => Assert.Equal(TimeSpan.FromHours(1), p.Second - p.First));
        Assert.Equal(0, starts[0].Minute + starts[0].Second);

        // Another org's chart does not move; two hours later the sign-ins sit two buckets earlier.
        Assert.Equal(tenantBefore["succeeded"]!.ToJsonString(), (await StatsAsync(tenantMod.Access))["succeeded"]!.ToJsonString());
        var lastHour = (long)buckets[^1]!["succeeded"]!;
        F.Time.Advance(TimeSpan.FromHours(2));
        admin = await F.AdminAsync();
        var later = (await StatsAsync(admin.Access, "?hours=3"))["buckets"]!.AsArray();
        Assert.Equal(3, later.Count);
        Assert.Equal(lastHour, (long)later[0]!["succeeded"]!);

        await (await F.SendAsync(HttpMethod.Get, "/v1/org/stats/sign-ins?hours=0", admin.Access)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await F.SendAsync(HttpMethod.Get, "/v1/org/stats/sign-ins?hours=169", admin.Access)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }

    [SuiteFact]
    public async Task Operators_page_through_every_org_and_read_the_platform_settings_without_secrets()
    {
        var admin = await F.AdminAsync();
        var (_, tenantOrg, tenantMod) = await TenantAsync(admin);
        using (var first = await F.SendAsync(HttpMethod.Get, "/v1/orgs?limit=1", admin.Access))
        {
            Assert.Single((await first.BodyAsync(HttpStatusCode.OK)).AsArray());
            Assert.True(first.Headers.Contains("Link"));
        }

        var (orgs, _) = await AllPagesAsync("/v1/orgs?limit=50", admin.Access, maxPages: 1000);
        Assert.Equal(orgs.Count, orgs.Select(o => (string)o["id"]!).Distinct().Count());
        var operatorOrg = Jwt(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        Assert.True((bool)orgs.Single(o => (string?)o["id"] == operatorOrg)["operator"]!);
        Assert.False((bool)orgs.Single(o => (string?)o["id"] == tenantOrg)["operator"]!);

        using var settingsResponse = await F.SendAsync(HttpMethod.Get, "/v1/platform/settings", admin.Access);
        var settings = await settingsResponse.BodyAsync(HttpStatusCode.OK);
        Assert.True((double)settings["tokens"]!["access_token_ttl_seconds"]! >= 60);
        Assert.True((double)settings["tokens"]!["max_access_token_ttl_seconds"]! >= (double)settings["tokens"]!["access_token_ttl_seconds"]!);
        Assert.Contains((string?)settings["feed_transport"], new[] { "http", "redis" });
        Assert.NotNull(settings["credential_rate_limits"]!["sign_in_per_ip"]);
        var raw = settings.ToJsonString();
        Assert.DoesNotContain(ControlPlaneFixture.AdminPassword, raw, StringComparison.Ordinal);
        Assert.DoesNotContain("master", raw, StringComparison.OrdinalIgnoreCase);

        // Neither for a tenant's mod nor for an ordinary member of the operator org.
        var (_, email) = await F.CreateUserAsync("create", admin);
        var member = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        foreach (var token in new[] { tenantMod.Access, member.Access })
        {
            await (await F.SendAsync(HttpMethod.Get, "/v1/orgs", token)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
            await (await F.SendAsync(HttpMethod.Get, "/v1/platform/settings", token)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        }
    }
}
