using Authio.ControlPlane.Diagnostics;

namespace Authio.ControlPlane.Fleet;

/// <summary>Refreshes the fleet gauges (and prunes silent edges) every 15 s, so a scrape never queries the database.</summary>
internal sealed partial class FleetSampler(FleetService fleet, TimeProvider time, ILogger<FleetSampler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await SampleAsync(stoppingToken);
            try
            {
                await Task.Delay(MetricsSampler.Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public async Task SampleAsync(CancellationToken ct)
    {
        try
        {
            await fleet.SampleAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The last sample stays; /readyz reports the database itself.
            Log.SampleFailed(logger, ex.GetType().Name);
        }
    }
}
