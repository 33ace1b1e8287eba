using System.Text.Json;
using Authio.EdgeProxy.Tests.EndToEnd.AdminConsole;
using Authio.Load.Tools.Kit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace Authio.EdgeProxy.Tests.LoadKit;

/// <summary>
/// The load kit's scenario runner (load/Authio.Load.Tools, <c>run</c>) for about two seconds against a Kestrel stub on
/// loopback: what a platform team gets out of it — the result JSON with HdrHistogram percentiles, a self-contained HTML
/// report with the latency distribution plotted, the comparison ratio — and that a stall shows in the latency of the
/// requests scheduled during it (open model: no coordinated omission).
/// </summary>
public sealed class LoadKitRunnerTests : IAsyncLifetime
{
    private const string GoodToken = "token-one";
    private readonly string _dir = Directory.CreateTempSubdirectory("authio-loadkit-").FullName;
    private WebApplication? _stub;
    private string _url = "";
    private int _requests;
    private int _stallOnRequest = -1;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _stub = builder.Build();
        // 200 only with the scenario's credential and header, as the edge would check them; one request may stall.
        _stub.Run(async context =>
        {
            var n = Interlocked.Increment(ref _requests);
            if (n == Volatile.Read(ref _stallOnRequest))
            {
                await Task.Delay(600);
            }
            var authorized = context.Request.Headers.Authorization == $"Bearer {GoodToken}"
                && context.Request.Headers["X-Forwarded-Uri"] == "/api/items";
            context.Response.StatusCode = authorized ? StatusCodes.Status200OK : StatusCodes.Status401Unauthorized;
        });
        await _stub.StartAsync();
        _url = _stub.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public async Task DisposeAsync()
    {
        if (_stub is not null)
        {
            await _stub.DisposeAsync();
        }
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_short_open_model_run_writes_percentiles_to_json_and_plots_the_latency_distribution_in_html()
    {
        var (exit, log) = await RunAsync(Scenario("open", rps: 100, connections: 8), "--baseline", _url, "--target-name", "stub", "--baseline-name", "stub-again");

        Assert.True(exit == 0, log);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_dir, "out", "result.json")));
        var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(["baseline", "target"], runs.Select(r => r.GetProperty("role").GetString()));
        foreach (var run in runs)
        {
            Assert.Equal("open", run.GetProperty("model").GetString());
            var latency = run.GetProperty("latencyMs");
            var percentiles = new[] { "p50", "p90", "p99", "p999", "max" }.Select(p => latency.GetProperty(p).GetDouble()).ToArray();
            Assert.All(percentiles, p => Assert.True(p > 0, log));
            Assert.Equal(percentiles.Order(), percentiles);
            // 100/s over the 1.5 s window: every scheduled request was sent with the credential and answered 200.
            var requests = run.GetProperty("requests").GetInt64();
            Assert.InRange(requests, 140, 160);
            Assert.Equal(requests, run.GetProperty("statuses").GetProperty("200").GetInt64());
            Assert.Equal(0, run.GetProperty("unexpected").GetInt64());
            Assert.True(run.GetProperty("percentileCurve").GetArrayLength() >= 5);
            Assert.NotEmpty(run.GetProperty("timeline").EnumerateArray());
        }
        var comparison = json.RootElement.GetProperty("comparison");
        Assert.True(comparison.GetProperty("medianThroughputRatio").GetDouble() > 0);
        Assert.Contains("== ratio stub / stub-again: throughput", log, StringComparison.Ordinal);

        var html = await File.ReadAllTextAsync(Path.Combine(_dir, "out", "report.html"));
        Assert.Contains("<svg id=\"latency-distribution\"", html, StringComparison.Ordinal);
        var plot = html[html.IndexOf("<svg id=\"latency-distribution\"", StringComparison.Ordinal)..];
        plot = plot[..plot.IndexOf("</svg>", StringComparison.Ordinal)];
        Assert.Equal(2, plot.Split("<polyline class=\"series\"").Length - 1);
        Assert.Contains("99.9%", plot, StringComparison.Ordinal);
        Assert.Contains("<svg id=\"throughput-stub\"", html, StringComparison.Ordinal);
        // Self-contained: nothing loaded from anywhere (the only URL is the SVG namespace).
        Assert.DoesNotContain("<script src", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_the_open_model_a_stall_shows_in_the_latency_of_every_request_scheduled_during_it()
    {
        // One answer takes 600 ms on the only connection; requests keep being scheduled at 50/s meanwhile (≈ 30 of
        // them). Counted from their intended send time they waited for it, so well over 10 % of the 75 see > 100 ms.
        _stallOnRequest = 40;
        var (exit, log) = await RunAsync(Scenario("open", rps: 50, connections: 1));

        Assert.True(exit == 0, log);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_dir, "out", "result.json")));
        var run = Assert.Single(json.RootElement.GetProperty("runs").EnumerateArray());
        Assert.True(run.GetProperty("latencyMs").GetProperty("p90").GetDouble() > 100, log);
        Assert.True(run.GetProperty("latencyMs").GetProperty("max").GetDouble() >= 550, log);
    }

    [Fact]
    public async Task Answers_outside_the_expected_statuses_fail_the_run()
    {
        var scenario = Scenario("closed", rps: null, connections: 2);
        await File.WriteAllTextAsync(Path.Combine(_dir, "credentials.txt"), "a-token-the-stub-refuses\n");

        var (exit, log) = await RunAsync(scenario);

        Assert.True(exit == 1, log);
        Assert.Contains("answers outside the expected statuses", log, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_dir, "out", "result.json")));
        var run = Assert.Single(json.RootElement.GetProperty("runs").EnumerateArray());
        Assert.True(run.GetProperty("statuses").GetProperty("401").GetInt64() > 0);
    }

    [ChromiumFact]
    public async Task The_report_shows_the_latency_distribution_in_a_browser()
    {
        // AUTHIO_LOAD_REPORT: render an existing report instead (how docs/images/load-report.png was made).
        var report = Environment.GetEnvironmentVariable("AUTHIO_LOAD_REPORT");
        if (string.IsNullOrEmpty(report))
        {
            var (exit, log) = await RunAsync(Scenario("open", rps: 100, connections: 8), "--duration", "1s", "--baseline", _url);
            Assert.True(exit == 0, log);
            report = Path.Combine(_dir, "out", "report.html");
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1100, Height = 900 } });
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.Console += (_, m) => errors.Add(m.Text);
        await page.GotoAsync(new Uri(report).AbsoluteUri);

        var plot = page.Locator("#latency-distribution");
        await Assertions.Expect(plot).ToBeVisibleAsync();
        var box = await plot.BoundingBoxAsync();
        Assert.True(box is { Width: > 400, Height: > 200 });
        // The curves are drawn: each polyline has a rendered length.
        var lengths = await page.EvaluateAsync<double[]>("() => [...document.querySelectorAll('#latency-distribution polyline.series')].map(p => p.getTotalLength())");
        Assert.NotEmpty(lengths);
        Assert.All(lengths, l => Assert.True(l > 50));
        await Assertions.Expect(page.Locator("#summary")).ToContainTextAsync("p99.9 ms");
        Assert.Empty(errors);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, "load-report.png"), FullPage = true });
    }

    private string Scenario(string model, double? rps, int connections)
    {
        var path = Path.Combine(_dir, "scenario.json");
        var arrival = model == "open" ? $$"""{ "model": "open", "rps": {{rps}} }""" : $$"""{ "model": "closed", "connections": {{connections}} }""";
        File.WriteAllText(path, $$"""
            {
              "name": "stub-check",
              "description": "the runner against a Kestrel stub",
              "request": { "method": "GET", "path": "/authz", "headers": { "X-Forwarded-Uri": "/api/items" } },
              "credentials": { "header": "Authorization", "scheme": "Bearer" },
              "arrival": {{arrival}},
              "connections": {{connections}},
              "warmup": "300ms",
              "duration": "1.5s",
              "expectStatuses": [200]
            }
            """);
        File.WriteAllText(Path.Combine(_dir, "credentials.txt"), GoodToken + "\n");
        return path;
    }

    private async Task<(int Exit, string Log)> RunAsync(string scenario, params string[] extra)
    {
        using var log = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string[] args = ["run", "--scenario", scenario, "--target", _url, "--credentials", Path.Combine(_dir, "credentials.txt"), "--out", Path.Combine(_dir, "out"), .. extra];
        var exit = await LoadKitCli.RunAsync(args, log, timeout.Token);
        return (exit, log.ToString());
    }
}
