using Authio.Shared.ApiKeys;

namespace Authio.EdgeProxy.ApiKeys;

/// <summary>Sends aggregated per-key use counts to the control plane every <c>Edge:ApiKeys:UsageReportInterval</c>; counts survive a failed report.</summary>
internal sealed partial class ApiKeyUsageReporter(
    ApiKeyUsageCounters counters,
    ControlPlaneClient controlPlane,
    Configuration.EdgeOptions options,
    TimeProvider time,
    ILogger<ApiKeyUsageReporter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.ApiKeys.UsageReportInterval, time);
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
        await ReportAsync(CancellationToken.None); // last counts on shutdown, best effort
    }

    internal async Task ReportAsync(CancellationToken cancellationToken)
    {
        var drained = new List<(ApiKeyUsageCounter Counter, ApiKeyUsage Usage)>();
        foreach (var counter in counters.All)
        {
            if (counter.Drain() is { } usage)
            {
                drained.Add((counter, usage));
            }
        }
        if (drained.Count == 0)
        {
            return;
        }
        try
        {
            await controlPlane.ReportUsageAsync(new ApiKeyUsageReport(drained.Select(d => d.Usage).ToArray()), cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            foreach (var (counter, usage) in drained)
            {
                counter.Restore(usage.Count);
            }
            LogReportFailed(logger, drained.Count, ex.Message);
        }
    }
}
