using System.Net;
using System.Reflection;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Sync;
using Authio.Shared.Fleet;

namespace Authio.EdgeProxy.Fleet;

/// <summary>
/// Sends this edge's status to the control plane every <c>Edge:Fleet:ReportInterval</c>. Route figures cover the time
/// since the last delivered report: when a report fails (control plane unreachable, 5xx) its histograms are kept and the
/// next interval is added to them, so no request goes unreported and the percentiles stay true for the longer window
/// (<c>window_seconds</c> says how long). A report the control plane refuses (4xx) would be refused again: its data is dropped.
/// </summary>
internal sealed partial class FleetReporter(
    RouteRecorders routes,
    IHttpClientFactory httpClients,
    EdgeOptions options,
    IssuerRegistry issuers,
    TimeProvider time,
    ILogger<FleetReporter> logger,
    EdgeSyncClient? sync = null) : BackgroundService
{
    private static readonly string Version = VersionOf(typeof(FleetReporter).Assembly);
    private readonly string _edgeId = options.Fleet.ResolvedEdgeId(options.AdminUrls);
    private long _windowStart = time.GetTimestamp();

    public string EdgeId => _edgeId;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogReporting(logger, _edgeId, options.Fleet.ReportInterval);
        using var timer = new PeriodicTimer(options.Fleet.ReportInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await ReportAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal EdgeStatusReport Build()
    {
        var now = time.GetUtcNow();
        var keyAges = issuers.Issuers.Where(i => i.Keys is not null).Select(i => Math.Max(0, (now - i.Keys!.LoadedAt).TotalSeconds)).ToList();
        return new EdgeStatusReport(
            _edgeId,
            Version,
            options.Fleet.ReportInterval.TotalSeconds,
            sync?.Sequence ?? 0,
            // The same lag and transport the edge's own metrics show (authio_edge_feed_lag_seconds, authio_edge_feed_transport).
            sync?.LagSeconds,
            sync is null ? null : sync.ViaRedis ? FleetPaths.TransportRedis : FleetPaths.TransportHttp,
            keyAges.Count == 0 ? null : keyAges.Max(),
            time.GetElapsedTime(_windowStart).TotalSeconds,
            routes.Collect().OrderByDescending(r => r.Requests).ThenBy(r => r.Route, StringComparer.Ordinal).Take(FleetPaths.MaxRoutes).ToList());
    }

    internal async Task ReportAsync(CancellationToken cancellationToken)
    {
        var report = Build();
        try
        {
            var http = httpClients.CreateClient(ControlPlaneClient.HttpClientName);
            using var response = await http.PostAsJsonAsync(FleetPaths.Report, report, cancellationToken);
            if ((int)response.StatusCode is >= 400 and < 500 && response.StatusCode != HttpStatusCode.TooManyRequests)
            {
                LogReportRefused(logger, (int)response.StatusCode, report.Routes.Count);
            }
            else
            {
                response.EnsureSuccessStatusCode();
            }
            routes.Delivered();
            _windowStart = time.GetTimestamp();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException
            && !cancellationToken.IsCancellationRequested)
        {
            LogReportFailed(logger, report.Routes.Count, ex.Message);
        }
    }

    private static string VersionOf(Assembly assembly)
    {
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString() ?? "unknown";
        return version.Length <= FleetPaths.MaxNameLength ? version : version[..FleetPaths.MaxNameLength];
    }
}
