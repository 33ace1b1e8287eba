using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.SigningKeys;

namespace Authio.ControlPlane.Diagnostics;

/// <summary>
/// Samples the gauges that need the database (change-log head, oldest signing key's age, live sessions) every 15 s, so a scrape never
/// queries the database and many scrapers cost nothing extra.
/// </summary>
internal sealed partial class MetricsSampler(EdgeChangeStore changes, SigningKeyStore keys, LiveSessionStore sessions, ControlPlaneMetrics metrics, TimeProvider time,
    ILogger<MetricsSampler> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await SampleAsync(stoppingToken);
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
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
            metrics.SampleChangeLogHead(await changes.LastSequenceAsync(ct));
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var all = await keys.AllAsync(ct);
            var states = KeyStates.ComputePerOrg(all, now);
            var active = all.Where(k => states[k.Kid] == KeyStates.Active).ToList();
            metrics.SampleOldestActiveKeyAge(active.Count == 0 ? null : TimeSpan.FromMilliseconds(now - active.Min(k => k.ActivateAt)));
            metrics.SampleSessionsActive(await sessions.CountAsync(time.GetUtcNow().ToUnixTimeMilliseconds(), ct));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The last sample stays; /readyz reports the database itself.
            Log.SampleFailed(logger, ex.GetType().Name);
        }
    }
}
