using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Auth;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.SigningKeys;

namespace Authio.ControlPlane.Hosting;

/// <summary>
/// Periodic upkeep: scheduled signing-key rotation, JWKS changes for the edge feed (time-driven retirements), audit
/// retention and pruning of expired revocations. Off with <c>ControlPlane:Jobs:Enabled=false</c>.
/// </summary>
internal sealed partial class MaintenanceService(SigningKeyStore keys, AuditRetention retention, EdgeChangeLog changes, ControlPlaneOptions options,
    AuditSeals seals, LoginFailures loginFailures, TimeProvider time, ILogger<MaintenanceService> logger) : BackgroundService
{
    public async Task RunOnceAsync(CancellationToken ct)
    {
        await keys.RotateIfDueAsync(ct);
        await keys.RecordTransitionsAsync(ct);
        var pruned = await retention.PruneAsync(ct);
        if (pruned > 0) Log.Pruned(logger, pruned);
        await keys.RecordJwksChangeAsync(ct);
        var expired = await changes.PruneAsync(ct);
        if (expired > 0) Log.ChangesPruned(logger, expired);
        await seals.CheckpointAllAsync(ct);
        await loginFailures.PruneAsync(options.Lockout.Window, ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Jobs.Enabled) return;
        using var timer = new PeriodicTimer(options.Jobs.Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A failed round (e.g. database briefly down) must not stop later rounds.
                Log.Failed(logger, ex);
            }
        }
    }
}
