using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Authio.EdgeProxy.Fleet;
using Authio.Shared.ApiKeys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Authio.EdgeProxy.Tests.EndToEnd.AdminConsole.ConsoleSteps;

namespace Authio.EdgeProxy.Tests.EndToEnd.AdminConsole;

/// <summary>
/// The console served through the edge (its static files on an <c>Authio.Anonymous</c> route, the sign-in cookie
/// endpoints anonymous too, every other <c>/v1</c> call on an authenticated route that forwards the bearer token), its
/// first paint measured, the overview's charts, server-side paging, a late render that must not draw over the next
/// view, and a terminated session shown as revoked once the edge reports the revocation's feed position.
/// </summary>
public sealed class ConsoleBehindEdgeBrowserTests(ITestOutputHelper output) : ControlPlaneAndEdge(withRedis: false)
{
    /// <summary>Reads first-contentful-paint (ms since navigation start) from the page's Performance API; -1 if none within 5 s.</summary>
    private const string FirstContentfulPaint = """
        () => new Promise((resolve) => {
          const find = () => performance.getEntriesByName('first-contentful-paint')[0];
          if (find()) { resolve(find().startTime); return; }
          new PerformanceObserver(() => { if (find()) resolve(find().startTime); }).observe({ type: 'paint', buffered: true });
          setTimeout(() => resolve(-1), 5000);
        })
        """;

    private string EdgeUrl => Edge.Client.BaseAddress!.ToString().TrimEnd('/');

    private protected override void ConfigureEdge(Dictionary<string, string?> config)
    {
        config["ReverseProxy:Clusters:cp:Destinations:d1:Address"] = Cp.Url;
        // Static files only: the console's shell and modules carry no data and need no credential.
        Route(config, "console", "/admin/{**rest}", ("Authio.Anonymous", "true"));
        // Sign-in and the cookie endpoints authenticate themselves (password; refresh cookie + CSRF header).
        Route(config, "cp-auth", "/v1/auth/{**rest}", ("Authio.Anonymous", "true"), ("Authio.ForwardAuthorization", "true"));
        // Everything else: the edge checks the access token and passes it on, so the control plane checks it again.
        Route(config, "cp-api", "/v1/{**rest}", ("Authio.ForwardAuthorization", "true"));
    }

    private static void Route(Dictionary<string, string?> config, string id, string path, params (string Key, string Value)[] metadata)
    {
        config[$"ReverseProxy:Routes:{id}:ClusterId"] = "cp";
        config[$"ReverseProxy:Routes:{id}:Match:Path"] = path;
        foreach (var (key, value) in metadata)
        {
            config[$"ReverseProxy:Routes:{id}:Metadata:{key}"] = value;
        }
    }

    /// <summary>Loads <paramref name="url"/> in a fresh context (nothing cached) and returns its first contentful paint in ms.</summary>
    private static async Task<double> FirstPaintAsync(IBrowser browser, string url)
    {
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(url, new() { WaitUntil = WaitUntilState.Load });
        return await page.EvaluateAsync<double>(FirstContentfulPaint);
    }

    [ChromiumFact]
    public async Task The_console_works_behind_the_edge_and_its_first_paint_is_measured()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        EdgeClockToNow();

        // First contentful paint on loopback, cold (a fresh context each time), straight from the control plane and
        // through the edge. Recorded, not asserted beyond a sanity bound: timing is no pass/fail criterion here.
        var direct = new List<double>();
        var viaEdge = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            direct.Add(await FirstPaintAsync(browser, $"{Cp.Url}/admin/"));
            viaEdge.Add(await FirstPaintAsync(browser, $"{EdgeUrl}/admin/"));
        }
        var line = string.Create(CultureInfo.InvariantCulture,
            $"console first-contentful-paint (ms, cold, loopback): direct {string.Join(" ", direct.Select(d => d.ToString("F0", CultureInfo.InvariantCulture)))}; via edge {string.Join(" ", viaEdge.Select(d => d.ToString("F0", CultureInfo.InvariantCulture)))}; median direct {direct.Order().ElementAt(1):F0}, via edge {viaEdge.Order().ElementAt(1):F0}");
        output.WriteLine(line);
        await File.AppendAllTextAsync(Path.Combine(Chromium.ScreenshotDirectory, "console-first-paint.txt"), $"{DateTimeOffset.UtcNow:O} {line}\n");
        Assert.All(direct.Concat(viaEdge), ms => Assert.InRange(ms, 0, 10_000));

        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var (page, errors) = await OpenAsync(context);
        var apiCalls = new List<(string Url, int Status)>();
        page.Response += (_, r) =>
        {
            if (r.Url.Contains("/v1/", StringComparison.Ordinal))
            {
                apiCalls.Add((r.Url, r.Status));
            }
        };

        // The shell comes through the edge with the console's own security headers.
        var shell = await page.GotoAsync($"{EdgeUrl}/admin/");
        Assert.NotNull(shell);
        Assert.Equal(200, shell.Status);
        var headers = await shell.AllHeadersAsync();
        Assert.Contains("frame-ancestors 'none'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Equal("no-referrer", headers["referrer-policy"]);

        // API-key use the overview charts: an app key with uses reported the way edges report them.
        var admin = await Cp.AccessTokenAsync();
        var appKey = await Cp.CreateApiKeyAsync(admin, "billing-service", ["read:applications"]);
        var reporterKey = (await Cp.CreateApiKeyAsync(admin, "usage-reporter", ["edge:sync"])).GetProperty("key").GetString()!;
        using (var usage = new HttpRequestMessage(HttpMethod.Post, $"{Cp.Url}{EdgeApiKeyPaths.Usage}"))
        {
            usage.Headers.Authorization = new("Bearer", reporterKey);
            usage.Content = JsonContent(new { keys = new[] { new { id = appKey.GetProperty("id").GetString(), count = 12, last_used_at = DateTimeOffset.UtcNow } } });
            using var reported = await Cp.Http.SendAsync(usage);
            Assert.Equal(HttpStatusCode.NoContent, reported.StatusCode);
        }

        // Sign in through the edge; the overview's sign-in chart counts it, and the key's uses show.
        EdgeClockToNow();
        await SignInAsync(page, RealControlPlane.AdminEmail, RealControlPlane.Password);
        await Expect(page.GetByTestId("sign-in-chart")).ToBeVisibleAsync();
        Assert.True(int.Parse(await page.GetByTestId("sign-ins-24h").Locator(".value").InnerTextAsync(), CultureInfo.InvariantCulture) >= 1);
        await Expect(page.GetByTestId("key-use-chart")).ToContainTextAsync("12 uses");
        await Expect(page.GetByTestId("key-uses")).ToContainTextAsync("12");
        await ShotAsync(page, "overview-charts");

        // A reload restores the session through the edge (refresh cookie + CSRF header), still no token in storage.
        await page.ReloadAsync();
        await Expect(page.GetByTestId("who")).ToContainTextAsync("mod");
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length + sessionStorage.length"));

        // The operator view through the edge: every org, and the platform's settings (read-only).
        EdgeClockToNow();
        await page.GotoAsync($"{EdgeUrl}/admin/#/operator");
        await Expect(page.GetByTestId("orgs")).ToContainTextAsync("operator org");
        await Expect(page.GetByTestId("platform-settings")).ToContainTextAsync("access token ttl seconds");
        await Expect(page.GetByTestId("platform-settings")).ToContainTextAsync("feed transport");
        await ShotAsync(page, "operator-settings");

        // Every API call went to the edge's origin, and none was refused by it.
        Assert.NotEmpty(apiCalls);
        Assert.All(apiCalls, c => Assert.StartsWith(EdgeUrl + "/v1/", c.Url, StringComparison.Ordinal));
        Assert.DoesNotContain(apiCalls, c => c.Status is 401 or 403 or >= 500);
        Assert.Empty(errors);
    }

    [ChromiumFact]
    public async Task Users_page_on_the_server_a_late_view_never_draws_over_the_next_and_a_terminated_session_shows_revoked_at_edges()
    {
        var admin = await Cp.AccessTokenAsync();
        for (var i = 0; i < 23; i++)
        {
            using var created = await Cp.SendAsync(HttpMethod.Post, "/v1/users", admin,
                new { email = $"member{i:D2}@paging.test", password = RealControlPlane.Password, role = "explore" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var (page, errors) = await OpenAsync(await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } }));
        await SignInAsync(page, $"{Cp.Url}/admin/", RealControlPlane.AdminEmail, RealControlPlane.Password);

        // Search and paging are the server's: 20 per page, in email order.
        await page.GotoAsync($"{Cp.Url}/admin/#/users");
        var searched = page.WaitForRequestAsync(new Regex(@"/v1/users\?limit=20&q=paging\.test$"));
        await page.GetByTestId("user-search").FillAsync("paging.test");
        await searched;
        await Expect(page.GetByTestId("users-page")).ToContainTextAsync("Page 1 · 20 users");
        await Expect(page.GetByTestId("users").Locator("tbody tr").First).ToContainTextAsync("member00@paging.test");
        await page.GetByTestId("users-next").ClickAsync();
        await Expect(page.GetByTestId("users-page")).ToContainTextAsync("Page 2 · 3 users");
        await Expect(page.GetByTestId("users")).ToContainTextAsync("member22@paging.test");
        await Expect(page.GetByTestId("users-next")).ToBeDisabledAsync();
        await ShotAsync(page, "users-paged");
        await page.GetByTestId("users-previous").ClickAsync();
        await Expect(page.GetByTestId("users-page")).ToContainTextAsync("Page 1 · 20 users");

        // A slow users list answered after the admin moved on to the rate limits: it must not replace that view.
        var held = new TaskCompletionSource();
        await page.RouteAsync(new Regex(@"/v1/users\?limit="), async route =>
        {
            await held.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await route.ContinueAsync();
        });
        await page.GotoAsync($"{Cp.Url}/admin/#/sessions");
        await Expect(page.GetByTestId("sessions")).ToBeVisibleAsync();
        // The held request ends either answered late or aborted by the navigation (the view's signal): both are fine.
        var lateAnswer = new TaskCompletionSource();
        void Ended(string url)
        {
            if (url.Contains("/v1/users?limit=", StringComparison.Ordinal))
            {
                lateAnswer.TrySetResult();
            }
        }
        page.Response += (_, r) => Ended(r.Url);
        page.RequestFailed += (_, r) => Ended(r.Url);
        await page.EvaluateAsync("() => { location.hash = '#/users'; }");
        await page.EvaluateAsync("() => new Promise((resolve) => setTimeout(resolve, 200))");
        await page.EvaluateAsync("() => { location.hash = '#/ratelimits'; }");
        await Expect(page.GetByTestId("limit-current")).ToBeVisibleAsync();
        held.SetResult();
        await lateAnswer.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await page.EvaluateAsync("() => new Promise((resolve) => setTimeout(resolve, 300))");
        await Expect(page.GetByTestId("limit-current")).ToBeVisibleAsync();
        Assert.Equal(0, await page.GetByTestId("users").CountAsync());
        Assert.Equal(1, await page.Locator("main h1").CountAsync());
        await page.UnrouteAllAsync(new() { Behavior = UnrouteBehavior.IgnoreErrors });

        // A member's session, terminated from the org-wide list: revoked at edges once the edge reports its feed position.
        using (var created = await Cp.SendAsync(HttpMethod.Post, "/v1/users", admin, new { email = "carol@acme.test", password = RealControlPlane.Password, role = "create" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var carol = await Cp.LoginAsync("carol@acme.test");
        var carolSid = SessionOf(carol.GetProperty("access_token").GetString()!);
        await page.GotoAsync($"{Cp.Url}/admin/#/sessions");
        await page.GetByTestId($"terminate-{carolSid}").ClickAsync();
        await page.GetByTestId("confirm-yes").ClickAsync();
        var status = page.GetByTestId($"revocation-{carolSid}");
        await Expect(status).ToContainTextAsync("ended");
        var reporter = Edge.Services.GetRequiredService<FleetReporter>();
        for (var i = 0; i < 60 && !(await status.InnerTextAsync()).Contains("revoked at edges", StringComparison.Ordinal); i++)
        {
            await reporter.ReportAsync(CancellationToken.None); // the edge's report timer runs on the test clock
            await Task.Delay(250);
        }
        await Expect(status).ToContainTextAsync("revoked at edges: 1 of 1 online edges");
        await ShotAsync(page, "sessions-revoked");
        Assert.Empty(errors);
    }

    private static string SessionOf(string jwt)
    {
        var payload = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        return JsonDocument.Parse(Convert.FromBase64String(payload)).RootElement.GetProperty("sid").GetString()!;
    }

    private static System.Net.Http.Json.JsonContent JsonContent(object body) => System.Net.Http.Json.JsonContent.Create(body);
}
