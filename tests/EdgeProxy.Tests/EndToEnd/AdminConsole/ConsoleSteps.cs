using Microsoft.Playwright;

namespace Authio.EdgeProxy.Tests.EndToEnd.AdminConsole;

/// <summary>Steps the console's browser tests share: sign in through the form, save a screenshot.</summary>
internal static class ConsoleSteps
{
    /// <summary>Signs in and waits for the overview the console lands on, so a navigation that follows is not raced by it.</summary>
    public static async Task SignInAsync(IPage page, string email, string password)
    {
        await page.GetByTestId("email").FillAsync(email);
        await page.GetByTestId("password").FillAsync(password);
        await page.GetByTestId("sign-in").ClickAsync();
        await Assertions.Expect(page.GetByTestId("who")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("active-sessions")).ToBeVisibleAsync();
    }

    /// <summary>
    /// A full-page screenshot as <c>console-{name}.png</c> in <see cref="Chromium.ScreenshotDirectory"/>; <paramref name="mask"/>
    /// is painted over (secrets: screenshots get committed, and a well-formed key would trip secret scanners).
    /// </summary>
    public static Task ShotAsync(IPage page, string name, params ILocator[] mask) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, $"console-{name}.png"), FullPage = true, Mask = mask, MaskColor = "#c9d3de" });
}
