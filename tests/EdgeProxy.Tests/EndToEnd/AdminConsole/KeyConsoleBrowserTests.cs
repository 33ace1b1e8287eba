using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Authio.EdgeProxy.Tests.EndToEnd.AdminConsole;

/// <summary>
/// The console's API-key and signing-key views in a real headless Chromium, against the real control plane and a real
/// edge on loopback: the key an admin creates works at the edge, its use shows up, and once revoked the edge refuses it;
/// a rotation shows in the ring; an emergency revoke needs the key's id typed exactly.
/// </summary>
public sealed partial class KeyConsoleBrowserTests() : ControlPlaneAndEdge(withRedis: false)
{
    private const int Ms = 15_000;

    [GeneratedRegex("^[1-9][0-9]*$")]
    private static partial Regex Positive();

    [ChromiumFact]
    public async Task Admin_creates_an_api_key_that_works_at_the_edge_shows_its_use_and_is_refused_once_revoked()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new()
        {
            ViewportSize = new() { Width = 1400, Height = 900 },
            Permissions = ["clipboard-read", "clipboard-write"],
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(Ms);
        var pageErrors = new List<string>();
        page.PageError += (_, e) => pageErrors.Add(e);

        await page.GotoAsync($"{Cp.Url}/admin/");
        await ConsoleSteps.SignInAsync(page, RealControlPlane.AdminEmail, RealControlPlane.Password);
        await page.GotoAsync($"{Cp.Url}/admin/#/api-keys");

        // The bootstrap mod may grant every scope: the picker offers them, admin included.
        await Expect(page.GetByTestId("scope-admin")).ToBeVisibleAsync();
        await page.GetByTestId("key-name-input").FillAsync("billing-export");
        await page.GetByTestId("key-environment").SelectOptionAsync("live");
        await page.GetByTestId("scope-read:applications").CheckAsync();
        await page.GetByTestId("create-key").ClickAsync();
        await Expect(page.GetByTestId("secret-card")).ToContainTextAsync("shown only this once");
        await Expect(page.GetByTestId("audit-event")).ToContainTextAsync("api_key_created");

        // The one-time display, and the copy button puts exactly that on the clipboard.
        var shown = (await page.GetByTestId("new-secret").TextContentAsync())!.Trim();
        Assert.StartsWith("sk_live_", shown, StringComparison.Ordinal);
        await page.GetByTestId("copy-secret").ClickAsync();
        await Expect(page.GetByTestId("copy-status")).ToHaveTextAsync("Copied to the clipboard.");
        var key = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        Assert.Equal(shown, key);

        // The key works at the edge, and its use count in the view rises as the edge reports it.
        Assert.Equal("0", await page.GetByTestId("uses-billing-export").TextContentAsync());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await AtEdge(key));
        }

        // The edge's clock is the test's: its next usage report (every Edge:ApiKeys:UsageReportInterval, 10 s) is due now.
        Edge.Time.Advance(TimeSpan.FromSeconds(10));

        await Expect(page.GetByTestId("uses-billing-export")).ToHaveTextAsync(Positive(), new() { Timeout = 30_000 });
        await ConsoleSteps.ShotAsync(page, "apikeys", page.GetByTestId("new-secret"));

        // Leaving the view drops the secret from the page; coming back shows the list without it.
        await page.GetByRole(AriaRole.Link, new() { Name = "Overview" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "API keys" }).ClickAsync();
        await Expect(page.GetByTestId("status-billing-export")).ToHaveTextAsync("active");
        Assert.Equal(0, await page.GetByTestId("new-secret").CountAsync());
        Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);

        // Revoke: the view says so, and the edge refuses the key once the feed has carried it (bounded wait).
        await page.GetByTestId("revoke-billing-export").ClickAsync();
        await page.GetByTestId("confirm-yes").ClickAsync();
        await Expect(page.GetByTestId("audit-event")).ToContainTextAsync("api_key_revoked");
        await Expect(page.GetByTestId("status-billing-export")).ToHaveTextAsync("revoked");
        var clock = Stopwatch.StartNew();
        while (await AtEdge(key) != HttpStatusCode.Unauthorized)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"revoked key still accepted at the edge after {clock.Elapsed}");
            await Task.Delay(50);
        }

        Assert.Empty(pageErrors);
    }

    [ChromiumFact]
    public async Task Admin_rotates_the_signing_key_and_an_emergency_revoke_needs_the_kid_typed_exactly()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 820 } });
        page.SetDefaultTimeout(Ms);
        var pageErrors = new List<string>();
        page.PageError += (_, e) => pageErrors.Add(e);

        await page.GotoAsync($"{Cp.Url}/admin/");
        await ConsoleSteps.SignInAsync(page, RealControlPlane.AdminEmail, RealControlPlane.Password);
        await page.GotoAsync($"{Cp.Url}/admin/#/signing-keys");
        await Expect(page.GetByTestId("signing-keys")).ToContainTextAsync("active");
        var before = await page.GetByTestId("kid").AllTextContentsAsync();

        // Rotate: a new key joins the ring as "next" (published, signs after the pre-publish period).
        await page.GetByTestId("rotate-signing-key").ClickAsync();
        await page.GetByTestId("confirm-yes").ClickAsync();
        await Expect(page.GetByTestId("audit-event")).ToContainTextAsync("signing_key_created");
        await Expect(page.GetByTestId("kid")).ToHaveCountAsync(before.Count + 1);
        var added = Assert.Single((await page.GetByTestId("kid").AllTextContentsAsync()).Except(before));
        await Expect(page.GetByTestId($"state-{added}")).ToHaveTextAsync("next");
        await ConsoleSteps.ShotAsync(page, "signingkeys");

        // A wrong typed confirmation revokes nothing.
        await page.GetByTestId($"revoke-{added}").ClickAsync();
        await page.GetByTestId("typed-kid").FillAsync(added[..^1]);
        await page.GetByTestId("revoke-confirm").ClickAsync();
        await Expect(page.GetByTestId("typed-error")).ToContainTextAsync("nothing was revoked");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(page.GetByTestId($"state-{added}")).ToHaveTextAsync("next");
        using (var ring = await Cp.Http.SendAsync(Authorized(HttpMethod.Get, $"/v1/signing-keys/{added}", await Cp.AccessTokenAsync())))
        {
            Assert.Contains("\"pending\"", await ring.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The exact kid revokes it: the ring shows it revoked.
        await page.GetByTestId($"revoke-{added}").ClickAsync();
        await page.GetByTestId("typed-kid").FillAsync(added);
        await page.GetByTestId("revoke-confirm").ClickAsync();
        await Expect(page.GetByTestId("audit-event")).ToContainTextAsync("signing_key_revoked");
        await Expect(page.GetByTestId($"state-{added}")).ToHaveTextAsync("revoked");

        Assert.Empty(pageErrors);
    }

    [Fact]
    public async Task The_key_views_are_served_with_the_consoles_security_headers()
    {
        foreach (var file in new[] { "views/apikeys.js", "views/signingkeys.js" })
        {
            using var response = await Cp.Http.GetAsync("/admin/" + file);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            // Text only: the views never parse markup.
            var source = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("innerHTML", source, StringComparison.Ordinal);
            Assert.DoesNotContain("insertAdjacentHTML", source, StringComparison.Ordinal);
        }
    }

    private static HttpRequestMessage Authorized(HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new("Bearer", token);
        return request;
    }

    private async Task<HttpStatusCode> AtEdge(string credential)
    {
        using var response = await Edge.GetAsync("/api/hello", credential);
        return response.StatusCode;
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
}
