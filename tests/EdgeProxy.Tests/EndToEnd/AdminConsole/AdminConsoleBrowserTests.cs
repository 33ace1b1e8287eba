using System.Diagnostics;
using System.Net;
using Microsoft.Playwright;

namespace Authio.EdgeProxy.Tests.EndToEnd.AdminConsole;

/// <summary>
/// The admin console at /admin in a real headless Chromium, against the real control plane and a real edge on
/// loopback: what an admin clicks, what an attacker tries (markup in names, tokens in storage, framing), and what a
/// signed-out user's next call through the edge gets.
/// </summary>
public sealed class AdminConsoleBrowserTests() : ControlPlaneAndEdge(withRedis: false)
{
    private const string Xss = "<img src=x onerror=alert(1)>";
    private const int Ms = 15_000;

    [ChromiumFact]
    public async Task Admin_creates_a_user_gives_a_role_and_ends_their_session_which_the_edge_then_refuses()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var adminContext = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 820 } });
        var admin = await adminContext.NewPageAsync();
        admin.SetDefaultTimeout(Ms);
        var pageErrors = new List<string>();
        admin.PageError += (_, e) => pageErrors.Add(e);
        var dialogs = new List<string>();
        admin.Dialog += async (_, d) =>
        {
            dialogs.Add(d.Message);
            await d.DismissAsync();
        };

        // Headers of the console's own responses.
        var shell = await admin.GotoAsync($"{Cp.Url}/admin/");
        Assert.NotNull(shell);
        var headers = await shell.AllHeadersAsync();
        var csp = headers["content-security-policy"];
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("no-referrer", headers["referrer-policy"]);
        Assert.Equal("nosniff", headers["x-content-type-options"]);
        await Shot(admin, "signin");

        await SignInAsync(admin, RealControlPlane.AdminEmail);

        // The refresh token is an HttpOnly, Secure, SameSite=Strict cookie scoped to the refresh path; Chromium keeps a
        // Secure cookie from plain-http loopback (a secure context).
        var refresh = Assert.Single(await adminContext.CookiesAsync(), c => c.Name == "__Secure-authio-refresh");
        Assert.True(refresh.HttpOnly);
        Assert.True(refresh.Secure);
        Assert.Equal(SameSiteAttribute.Strict, refresh.SameSite);
        Assert.Equal("/v1/auth/cookie", refresh.Path);

        // A reload keeps the session (refresh cookie), and no token is in web storage or readable cookies.
        await admin.ReloadAsync();
        await Expect(admin.GetByTestId("who")).ToContainTextAsync("mod");
        Assert.Equal(0, await admin.EvaluateAsync<int>("() => localStorage.length + sessionStorage.length"));
        var readable = await admin.EvaluateAsync<string>("() => document.cookie");
        Assert.DoesNotContain("authio-refresh", readable, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", readable, StringComparison.Ordinal);
        await Expect(admin.GetByTestId("active-sessions")).ToContainTextAsync("active sessions");
        await Shot(admin, "overview");

        // Create a user and give them `create`; each action confirms and shows its audit event.
        await admin.GotoAsync($"{Cp.Url}/admin/#/users");
        await CreateUserAsync(admin, "bob@acme.test");
        await admin.GetByTestId("role-bob@acme.test").SelectOptionAsync("create");
        await admin.GetByTestId("set-role-bob@acme.test").ClickAsync();
        await admin.GetByTestId("confirm-yes").ClickAsync();
        await Expect(admin.GetByTestId("audit-event")).ToContainTextAsync("role_assigned");
        await Expect(admin.GetByTestId("audit-event")).ToContainTextAsync("role=create");

        // Markup in a user's name is shown as text, never run.
        await CreateUserAsync(admin, Xss + "@xss.test");
        await admin.GetByTestId("user-search").FillAsync("");
        await Expect(admin.GetByTestId("users")).ToContainTextAsync(Xss + "@xss.test");
        Assert.Equal(0, await admin.Locator("img").CountAsync());
        await Shot(admin, "users");

        // Bob signs in from a second browser whose user agent is markup too; his calls carry his access token.
        var bobContext = await browser.NewContextAsync(new() { UserAgent = "Bob's browser " + Xss.Replace("1", "2", StringComparison.Ordinal) });
        var bob = await bobContext.NewPageAsync();
        bob.SetDefaultTimeout(Ms);
        string? bobToken = null;
        bob.Request += (_, r) =>
        {
            if (r.Headers.TryGetValue("authorization", out var value) && value.StartsWith("Bearer ", StringComparison.Ordinal))
            {
                bobToken = value["Bearer ".Length..];
            }
        };
        await bob.GotoAsync($"{Cp.Url}/admin/");
        await SignInAsync(bob, "bob@acme.test");
        await Expect(bob.GetByTestId("who")).ToContainTextAsync("create");
        Assert.NotNull(bobToken);
        EdgeClockToNow();
        Assert.Equal(HttpStatusCode.OK, await AtEdge(bobToken));

        // The admin sees Bob's session (user agent inert) and terminates it.
        await admin.GotoAsync($"{Cp.Url}/admin/#/sessions");
        var bobRow = admin.Locator("[data-testid=sessions] tr", new() { HasText = "bob@acme.test" });
        await Expect(bobRow.GetByTestId("user-agent")).ToContainTextAsync("<img src=x onerror=alert(2)>");
        Assert.Equal(0, await admin.Locator("img").CountAsync());
        await Shot(admin, "sessions");
        await bobRow.GetByRole(AriaRole.Button, new() { Name = "Terminate" }).ClickAsync();
        await admin.GetByTestId("confirm-yes").ClickAsync();
        await Expect(admin.GetByTestId("audit-event")).ToContainTextAsync("session_ended");

        // Bob's next call through the edge: 401 once the feed has carried the revocation (bounded wait).
        var clock = Stopwatch.StartNew();
        while (await AtEdge(bobToken) != HttpStatusCode.Unauthorized)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"Bob's token still accepted at the edge after {clock.Elapsed}");
            await Task.Delay(50);
        }
        // And his console, on its next call, falls back to the sign-in form.
        await bob.GotoAsync($"{Cp.Url}/admin/#/sessions");
        await Expect(bob.GetByTestId("sign-in")).ToBeVisibleAsync();

        Assert.Empty(dialogs);
        Assert.Empty(pageErrors);
        Assert.False(await admin.EvaluateAsync<bool>("() => document.querySelectorAll('img').length > 0"));

        // Sign-out ends the session and clears the cookie: a reload shows the sign-in form.
        await admin.GetByTestId("sign-out").ClickAsync();
        await Expect(admin.GetByTestId("sign-in")).ToBeVisibleAsync();
        Assert.DoesNotContain(await adminContext.CookiesAsync(), c => c.Name == "__Secure-authio-refresh");
        await admin.ReloadAsync();
        await Expect(admin.GetByTestId("sign-in")).ToBeVisibleAsync();
    }

    [ChromiumFact]
    public async Task Sign_in_shows_the_apis_own_words_for_a_wrong_password_and_for_a_lockout()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(Ms);
        await page.GotoAsync($"{Cp.Url}/admin/");
        for (var i = 0; i < 6; i++)
        {
            await page.GetByTestId("email").FillAsync("nobody@acme.test");
            await page.GetByTestId("password").FillAsync("wrong-password-" + i);
            await page.GetByTestId("sign-in").ClickAsync();
            await Expect(page.GetByTestId("sign-in")).ToBeEnabledAsync();
        }

        await Expect(page.GetByTestId("signin-error")).ToContainTextAsync("(account_locked)");
        await Shot(page, "signin-locked");
    }

    [Fact]
    public async Task Console_files_carry_the_security_headers_and_fit_the_weight_budget()
    {
        var total = 0L;
        foreach (var file in new[] { "", "app.js", "api.js", "ui.js", "console.css", "views/users.js", "views/sessions.js", "views/overview.js", "views/signin.js", "views/common.js",
            "views/audit.js", "views/ratelimits.js", "views/operator.js", "views/apikeys.js", "views/signingkeys.js" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/" + file);
            request.Headers.AcceptEncoding.ParseAdd("gzip");
            using var response = await Cp.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            total += (await response.Content.ReadAsByteArrayAsync()).Length;
        }

        Assert.True(total < 500 * 1024, $"console weighs {total} bytes compressed");
        using var missing = await Cp.Http.GetAsync("/admin/nope.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private async Task<HttpStatusCode> AtEdge(string token)
    {
        using var response = await Edge.GetAsync("/api/hello", token);
        return response.StatusCode;
    }

    private static async Task SignInAsync(IPage page, string email)
    {
        await page.GetByTestId("email").FillAsync(email);
        await page.GetByTestId("password").FillAsync(RealControlPlane.Password);
        await page.GetByTestId("sign-in").ClickAsync();
        await Expect(page.GetByTestId("who")).ToBeVisibleAsync();
    }

    private static async Task CreateUserAsync(IPage page, string email)
    {
        await page.GetByTestId("new-email").FillAsync(email);
        await page.GetByTestId("new-password").FillAsync(RealControlPlane.Password);
        await page.GetByTestId("create-user").ClickAsync();
        await page.GetByTestId("confirm-yes").ClickAsync();
        await Expect(page.GetByTestId("audit-event")).ToContainTextAsync("user_created");
        await Expect(page.GetByTestId("audit-event")).ToContainTextAsync(email);
    }

    private static Task Shot(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, $"console-{name}.png"), FullPage = true });

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
}
