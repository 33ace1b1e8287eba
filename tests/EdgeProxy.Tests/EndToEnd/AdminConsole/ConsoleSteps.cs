using Microsoft.Playwright;

namespace Authio.EdgeProxy.Tests.EndToEnd.AdminConsole;

/// <summary>Steps every console browser test takes: open a page, sign in, take a screenshot.</summary>
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

    public static async Task SignInAsync(IPage page, string url, string email, string password)
    {
        await page.GotoAsync(url);
        await page.GetByTestId("email").FillAsync(email);
        await page.GetByTestId("password").FillAsync(password);
        await page.GetByTestId("sign-in").ClickAsync();
        await Expect(page.GetByTestId("who")).ToBeVisibleAsync();
    }

    public static Task Shot(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, $"console-{name}.png"), FullPage = true });

    public static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
}
