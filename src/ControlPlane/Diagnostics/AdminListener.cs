using System.Text.Json;
using Authio.ControlPlane.Hosting;
using Authio.Shared.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using OpenTelemetry.Metrics;

namespace Authio.ControlPlane.Diagnostics;

/// <summary>
/// The admin listener: /healthz, /readyz and Prometheus /metrics on its own port (<c>ControlPlane:AdminUrls</c>,
/// loopback by default), so operational endpoints never share the API's port, rate limits or middleware.
/// Started and stopped with the control plane.
/// </summary>
internal sealed partial class AdminListener(IServiceProvider services, ControlPlaneOptions options, ILogger<AdminListener> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The bound addresses (a configured port 0 resolved), once started.</summary>
    public IReadOnlyList<string> Addresses =>
        _app?.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "Authio.ControlPlane.Admin" });
        builder.WebHost.UseUrls(options.AdminUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.Logging.ClearProviders();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ControlPlaneMetrics.MeterName, "System.Runtime")
            .AddPrometheusExporter());
        var app = builder.Build();
        var checks = services.GetRequiredService<ReadinessChecks>();
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", async (HttpContext http) =>
        {
            var results = await checks.RunAsync(http.RequestAborted);
            var ready = results.All(c => c.Ok);
            var report = new ReadyReport(ready ? "ready" : "not_ready", results.Select(c => new ReadyCheck(c.Name, c.Ok ? "ok" : "failed", c.Detail)).ToArray());
            return Results.Json(report, AdminJson.Options, statusCode: ready ? 200 : 503);
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        try
        {
            await ListenerStart.RunAsync("ControlPlane:AdminUrls", () => app.StartAsync(cancellationToken));
        }
        catch
        {
            await app.DisposeAsync(); // never started: nothing else would dispose it
            throw;
        }
        _app = app;
        // Now that the exporter listens: earlier measurements would not reach it.
        services.GetRequiredService<ControlPlaneMetrics>().ExportZeroOutcomes();
        Log.Started(logger, string.Join(", ", Addresses));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
            _app = null;
        }
    }

    private sealed record ReadyCheck(string Name, string Status, string? Detail);

    private sealed record ReadyReport(string Status, ReadyCheck[] Checks);

    private static class AdminJson
    {
        public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        };
    }
}
