using Microsoft.Playwright;

namespace Authio.EdgeProxy.Tests.EndToEnd.AdminConsole;

/// <summary>
/// Debian's chromium, driven by Playwright (its own browser downloads are never used). scripts/services/chromium.sh
/// installs it when missing and exports AUTHIO_CHROMIUM; /usr/bin/chromium is used when that is unset.
/// </summary>
internal static class Chromium
{
    public static string? Path
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("AUTHIO_CHROMIUM");
            if (!string.IsNullOrEmpty(configured) && File.Exists(configured))
            {
                return configured;
            }

            return File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium" : null;
        }
    }

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new()
    {
        ExecutablePath = Path,
        Headless = true,
        Args = ["--headless", "--no-sandbox", "--disable-gpu"],
        Timeout = 60_000,
    });

    /// <summary>Where screenshots go (AUTHIO_CONSOLE_SCREENSHOTS, else a folder beside the test binaries).</summary>
    public static string ScreenshotDirectory
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("AUTHIO_CONSOLE_SCREENSHOTS") is { Length: > 0 } d
                ? d : System.IO.Path.Combine(AppContext.BaseDirectory, "console-screenshots");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }
}

/// <summary>A browser test: skipped, with the reason shown, when chromium is absent, except under CI where it must run.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Path is null && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "chromium not found: run `source scripts/services/chromium.sh && authio_chromium_start` (bash scripts/test.sh does).";
        }
    }
}
