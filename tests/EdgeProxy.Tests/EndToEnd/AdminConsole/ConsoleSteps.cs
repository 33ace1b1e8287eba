using Microsoft.Playwright;

namespace Authio.EdgeProxy.Tests.EndToEnd.AdminConsole;

/// <summary>Steps the console's browser tests share: open a page, sign in through the form, save a screenshot.</summary>
internal static class ConsoleSteps
{
    public const int TimeoutMs = 15_000;

    /// <summary>A page whose script errors and dialogs are collected (a test asserts there were none).</summary>
    public static async Task<(IPage Page, List<string> Errors)> OpenAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(TimeoutMs);
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.Dialog += async (_, d) =>
        {
            errors.Add("dialog: " + d.Message);
            await d.DismissAsync();
        };
        return (page, errors);
    }

    /// <summary>Opens <paramref name="url"/>, then signs in as <see cref="SignInAsync(IPage, string, string)"/> does.</summary>
    public static async Task SignInAsync(IPage page, string url, string email, string password)
    {
        await page.GotoAsync(url);
        await SignInAsync(page, email, password);
    }

    /// <summary>Signs in and waits for the overview the console lands on, so a navigation that follows is not raced by it.</summary>
    public static async Task SignInAsync(IPage page, string email, string password)
    {
        await page.GetByTestId("email").FillAsync(email);
        await page.GetByTestId("password").FillAsync(password);
        await page.GetByTestId("sign-in").ClickAsync();
        await Expect(page.GetByTestId("who")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("active-sessions")).ToBeVisibleAsync();
    }

    public static Task Shot(IPage page, string name) => ShotAsync(page, name);

    /// <summary>
    /// A full-page screenshot as <c>console-{name}.png</c> in <see cref="Chromium.ScreenshotDirectory"/>; <paramref name="mask"/>
    /// is painted over (secrets: screenshots get committed, and a well-formed key would trip secret scanners).
    /// </summary>
    public static Task ShotAsync(IPage page, string name, params ILocator[] mask) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, $"console-{name}.png"), FullPage = true, Mask = mask, MaskColor = "#c9d3de" });

    public static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
}
