using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Auth;
using Authio.ControlPlane.DataSubjects;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.SigningKeys;

namespace Authio.ControlPlane.Hosting;

/// <summary>
/// Periodic upkeep: scheduled signing-key rotation, JWKS changes for the edge feed (time-driven retirements), audit
/// retention and pruning of expired revocations. Off with <c>ControlPlane:Jobs:Enabled=false</c>. With several instances
/// on one database each interval's round runs on one of them (<see cref="MaintenanceRoundStore"/>).
/// </summary>
internal sealed partial class MaintenanceService(SigningKeyStore keys, ControlPlaneMetrics metrics, AuditRetention retention, EdgeChangeStore changes, ControlPlaneOptions options,
    AuditSeals seals, LoginFailures loginFailures, DataSubjectStore dataSubjects, MaintenanceRoundStore rounds, TimeProvider time, ILogger<MaintenanceService> logger) : BackgroundService
{
    private long _roundsRun;
    private long _roundsSkipped;

    /// <summary>Scheduled rounds this instance ran.</summary>
    public long RoundsRun => Interlocked.Read(ref _roundsRun);

    /// <summary>Scheduled rounds this instance left to another instance that had claimed them.</summary>
    public long RoundsSkipped => Interlocked.Read(ref _roundsSkipped);

    /// <summary>One round. Each step runs even when an earlier one failed (logged); the round then throws the first failure.</summary>
    public async Task RunOnceAsync(CancellationToken ct)
    {
        List<Exception>? failures = null;
        async Task Step(string name, Func<Task> step)
        {
            try
            {
                await step();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.StepFailed(logger, name, ex);
                (failures ??= []).Add(ex);
            }
        }
        await Step("signing_key_rotation", async () => metrics.KeysRotated("scheduled", await keys.RotateIfDueAsync(ct)));
        await Step("signing_key_transitions", () => keys.RecordTransitionsAsync(ct));
        await Step("audit_retention", async () =>
        {
            var pruned = await retention.PruneAsync(ct);
            if (pruned > 0)
            {
                Log.Pruned(logger, pruned);
            }
        });
        await Step("jwks_change", () => keys.RecordJwksChangeAsync(ct));
        await Step("edge_change_pruning", async () =>
        {
            var expired = await changes.PruneAsync(ct);
            if (expired > 0)
            {
                Log.ChangesPruned(logger, expired);
            }
        });
        await Step("audit_checkpoints", () => seals.CheckpointAllAsync(ct));
        await Step("login_failure_pruning", () => loginFailures.PruneAsync(options.Lockout.Window, ct));
        await Step("data_export_expiry", () => dataSubjects.ExpireExportsAsync(time.GetUtcNow().ToUnixTimeMilliseconds(), ct));
        if (failures is not null)
        {
            throw new AggregateException("Maintenance steps failed: " + failures.Count, failures);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Jobs.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Jobs.Interval, time);
        try
        {
            await RunRoundsAsync(timer, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped: also when the host never finished starting (a listener that could not bind), where the host
            // would otherwise report the cancellation as this service failing.
        }
    }

    private async Task RunRoundsAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (!await rounds.TryClaimAsync(time.GetUtcNow().ToUnixTimeMilliseconds(), (long)options.Jobs.Interval.TotalMilliseconds, stoppingToken))
                {
                    Interlocked.Increment(ref _roundsSkipped);
                    continue;
                }

                Interlocked.Increment(ref _roundsRun);
                await RunOnceAsync(stoppingToken);
            }
            catch (AggregateException)
            {
                // Each failed step was logged where it failed; the next round tries again.
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A failed round (e.g. database briefly down) must not stop later rounds.
                Log.Failed(logger, ex);
            }
        }
    }
}
