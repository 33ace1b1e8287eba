using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Hosting;

/// <summary>
/// Which instance runs a maintenance round: the first to claim it. A claim succeeds when the last round started at
/// least half an interval ago, so with any number of instances (timers at any offsets) one round runs per interval,
/// and when the instance that usually wins stops, another takes over within an interval.
/// </summary>
internal sealed class MaintenanceRoundStore(Db db)
{
    public Task<bool> TryClaimAsync(long nowMs, long intervalMs, CancellationToken ct) => db.GlobalAsync(async (c, tx) =>
        await c.ExecuteAsync("UPDATE maintenance_rounds SET started_at = @nowMs WHERE id = 1 AND started_at <= @latest",
            new { nowMs, latest = nowMs - intervalMs / 2 }, tx) == 1, ct);
}
