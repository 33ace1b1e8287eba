using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Authio.EdgeProxy.Fleet;
using Authio.EdgeProxy.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Authio.EdgeProxy.Tests.EndToEnd.AdminConsole.ConsoleSteps;

namespace Authio.EdgeProxy.Tests.EndToEnd.AdminConsole;

/// <summary>
/// The console's audit, rate-limit and operator views in a real Chromium against the real control plane and edge:
/// the live tail shows what the console just did, the export is NDJSON, the chain verifies, a limit typed in the
/// console is checked by the edges' parser and, saved, refuses requests at the edge; an explore user gets the API's 403.
/// </summary>
public sealed class AuditRateLimitsOperatorBrowserTests() : ControlPlaneAndEdge(withRedis: false)
{
    private const string Limit = "3/1m burst 3 per org";

    [ChromiumFact]
    public async Task Audit_tail_export_and_verify_rate_limit_reaching_the_edge_and_the_fleet()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 820 }, AcceptDownloads = true });
        var (audit, auditErrors) = await OpenAsync(context);
        await SignInAsync(audit, $"{Cp.Url}/admin/", RealControlPlane.AdminEmail, RealControlPlane.Password);

        // The audit view, open and tailing in one tab.
        await audit.GotoAsync($"{Cp.Url}/admin/#/audit");
        await Expect(audit.GetByTestId("audit-events")).ToContainTextAsync("org_created");
        await Expect(audit.GetByTestId("audit-status")).ToContainTextAsync("Live");
        Assert.Equal(0, await audit.GetByTestId("audit-events").GetByText("org_rate_limit_changed").CountAsync());

        // Rate limits in another tab: a bad limit shows the parser's own message, a good one its normalised text.
        var (limits, limitErrors) = await OpenAsync(context);
        await limits.GotoAsync($"{Cp.Url}/admin/#/ratelimits");
        await Expect(limits.GetByTestId("limit-current")).ToContainTextAsync("none");
        await limits.GetByTestId("limit-input").FillAsync("10/1x");
        await Expect(limits.GetByTestId("limit-check")).ToContainTextAsync("the period after '/' must be a number with a unit ms, s, m or h");
        await Expect(limits.GetByTestId("limit-check")).ToContainTextAsync("<count>/<period>");
        await Shot(limits, "ratelimits-invalid");
        await limits.GetByTestId("limit-input").FillAsync("  3/1m   burst 3 per org ");
        await Expect(limits.GetByTestId("limit-check")).ToContainTextAsync("Valid: " + Limit);
        await limits.GetByTestId("limit-save").ClickAsync();
        await limits.GetByTestId("confirm-yes").ClickAsync();
        await Expect(limits.GetByTestId("limit-current")).ToContainTextAsync(Limit);
        await Expect(limits.GetByTestId("audit-event")).ToContainTextAsync("org_rate_limit_changed");
        await Shot(limits, "ratelimits");

        // The edge applies it from the feed (bounded wait), then refuses the org's fourth request in the minute.
        var org = (await (await Cp.SendAsync(HttpMethod.Get, "/v1/org", await Cp.AccessTokenAsync())).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var applied = Edge.Services.GetRequiredService<InMemoryOrgRateLimits>();
        var clock = Stopwatch.StartNew();
        while (!(applied.TryGet(org, out var current) && current.Text == Limit))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the edge did not apply the console's limit within 10 s");
            await Task.Delay(20);
        }
        var token = await Cp.AccessTokenAsync();
        EdgeClockToNow();
        for (var i = 0; i < 3; i++)
        {
            using var admitted = await Edge.GetAsync("/api/hello", token);
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        }
        using (var refused = await Edge.GetAsync("/api/hello", token))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }

        // The tail shows the save without a reload.
        await Expect(audit.GetByTestId("audit-events")).ToContainTextAsync("org_rate_limit_changed", new() { Timeout = TimeoutMs });
        await Expect(audit.GetByTestId("audit-events")).ToContainTextAsync("rate_limit=" + Limit);

        // Export: a download of NDJSON, every line a JSON object, the save among the events, oldest first.
        var download = await audit.RunAndWaitForDownloadAsync(() => audit.GetByTestId("audit-export").ClickAsync());
        Assert.EndsWith(".ndjson", download.SuggestedFilename, StringComparison.Ordinal);
        var lines = (await File.ReadAllLinesAsync((await download.PathAsync())!)).Where(l => l.Length > 0).ToList();
        var parsed = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var events = parsed.Where(e => e.TryGetProperty("event", out _)).ToList();
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "org_rate_limit_changed");
        var seqs = events.Select(e => e.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(seqs.Order(), seqs);

        // Verify reports ok.
        await audit.GetByTestId("audit-verify").ClickAsync();
        await Expect(audit.GetByTestId("verify-ok")).ToContainTextAsync("Chain verified: ok.");
        await Expect(audit.GetByTestId("verify-ok")).ToContainTextAsync($"{events.Count} events checked");
        await Shot(audit, "audit");

        // The operator view lists the running edge once it has reported (its clock is the test's: report from here).
        await Edge.Services.GetRequiredService<FleetReporter>().ReportAsync(CancellationToken.None);
        using var fleetResponse = await Cp.SendAsync(HttpMethod.Get, "/v1/edges", token);
        var edgeId = (await fleetResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("edges")[0].GetProperty("id").GetString()!;
        await audit.GotoAsync($"{Cp.Url}/admin/#/operator");
        await Expect(audit.Locator("nav [data-route=operator]")).ToBeVisibleAsync();
        var row = audit.Locator("[data-testid=fleet] tr", new() { HasText = edgeId });
        await Expect(row.GetByTestId("edge-state")).ToHaveTextAsync("online");
        await Expect(audit.GetByTestId("orgs")).ToContainTextAsync(org);
        await Shot(audit, "operator");

        Assert.Empty(auditErrors);
        Assert.Empty(limitErrors);
    }

    [ChromiumFact]
    public async Task An_explore_user_sees_read_only_views_and_the_apis_403_where_they_act()
    {
        var admin = await Cp.AccessTokenAsync();
        const string Email = "erin@acme.test";
        using (var created = await Cp.SendAsync(HttpMethod.Post, "/v1/users", admin, new { email = Email, password = RealControlPlane.Password, role = "explore" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var (page, errors) = await OpenAsync(await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 820 } }));
        await SignInAsync(page, $"{Cp.Url}/admin/", Email, RealControlPlane.Password);
        await Expect(page.GetByTestId("who")).ToContainTextAsync("explore");
        await Expect(page.Locator("nav [data-route=ratelimits]")).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator("nav [data-route=operator]").CountAsync());

        // Rate limits: readable and checkable; saving is the API's 403.
        await page.GotoAsync($"{Cp.Url}/admin/#/ratelimits");
        await Expect(page.GetByTestId("limit-current")).ToContainTextAsync("none");
        await page.GetByTestId("limit-input").FillAsync("5/1s");
        await Expect(page.GetByTestId("limit-check")).ToContainTextAsync("Valid: 5/1s");
        await page.GetByTestId("limit-save").ClickAsync();
        await page.GetByTestId("confirm-yes").ClickAsync();
        await Expect(page.GetByTestId("limit-error")).ToContainTextAsync("(forbidden)");
        await Expect(page.GetByTestId("limit-current")).ToContainTextAsync("none");
        await Shot(page, "explore-ratelimits");

        // Users: listed; a role change is the API's 403, and nothing changed.
        await page.GotoAsync($"{Cp.Url}/admin/#/users");
        await page.GetByTestId($"role-{Email}").SelectOptionAsync("mod");
        await page.GetByTestId($"set-role-{Email}").ClickAsync();
        await page.GetByTestId("confirm-yes").ClickAsync();
        await Expect(page.GetByTestId("action-result")).ToContainTextAsync("(forbidden)");

        // Audit and the operator view are the API's 403 too.
        await page.GotoAsync($"{Cp.Url}/admin/#/audit");
        await Expect(page.GetByTestId("view-error")).ToContainTextAsync("(forbidden)");
        await page.GotoAsync($"{Cp.Url}/admin/#/operator");
        await Expect(page.GetByTestId("view-error")).ToContainTextAsync("(forbidden)");

        using (var org = await Cp.SendAsync(HttpMethod.Get, "/v1/users", admin))
        {
            var erin = (await org.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Single(u => u.GetProperty("email").GetString() == Email);
            Assert.Equal("explore", erin.GetProperty("role").GetString());
        }
        Assert.Empty(errors);
    }
}
