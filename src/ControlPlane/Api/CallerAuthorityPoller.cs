using Authio.ControlPlane.EdgeSync;

namespace Authio.ControlPlane.Api;

/// <summary>Reads the change log's last sequence number every <see cref="CallerAuthority.PollInterval"/> (wall clock) for <see cref="CallerAuthority"/>.</summary>
internal sealed partial class CallerAuthorityPoller(CallerAuthority authority, EdgeChangeStore changes, ILogger<CallerAuthorityPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CallerAuthority.PollInterval);
        var failing = false;
        do
        {
            try
            {
                authority.Observe(await changes.LastSequenceAsync(stoppingToken));
                if (failing)
                {
                    Log.PollRecovered(logger);
                }

                failing = false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The cache stops serving after CallerAuthority.StaleAfter; every request then reads the store.
                if (!failing)
                {
                    Log.PollFailed(logger, ex);
                }

                failing = true;
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
