using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.SigningKeys;
using Authio.ControlPlane.Storage;

namespace Authio.ControlPlane.Diagnostics;

/// <summary>One named readiness check's verdict; <see cref="Detail"/> says why it failed (no secrets).</summary>
internal sealed record ReadinessCheck(string Name, bool Ok, string? Detail = null);

/// <summary>
/// What /readyz checks: the database answers the app role, its schema is the version this build expects, Redis answers
/// (when configured) and every org's key ring has an active signing key. Each check is independent: one failing does not hide the others.
/// </summary>
internal sealed class ReadinessChecks(HealthStore health, SigningKeyStore keys, RedisHealth redis, ControlPlaneOptions options, TimeProvider time)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public async Task<IReadOnlyList<ReadinessCheck>> RunAsync(CancellationToken ct)
    {
        var checks = new List<ReadinessCheck>();
        long? applied = null;
        checks.Add(await GuardAsync("database", async c =>
        {
            applied = await health.AppliedVersionAsync(c);
            return new ReadinessCheck("database", true);
        }, ct));
        var expected = Schema.All[^1].Version;
        checks.Add(applied is null ? new ReadinessCheck("migrations", false, "database unreachable")
            : applied == expected ? new ReadinessCheck("migrations", true)
            : new ReadinessCheck("migrations", false, $"schema version {applied}, this build expects {expected}"));
        if (options.Redis is not null)
        {
            checks.Add(redis.Reachable ? new ReadinessCheck("redis", true) : new ReadinessCheck("redis", false, redis.Error ?? "not connected yet"));
        }
        checks.Add(applied is null ? new ReadinessCheck("key_ring", false, "database unreachable") : await GuardAsync("key_ring", async c =>
        {
            var all = await keys.AllAsync(c);
            var states = KeyStates.ComputePerOrg(all, time.GetUtcNow().ToUnixTimeMilliseconds());
            // Every org's ring must have a signer; no keys at all is a store with no org yet (bootstrap not run).
            var lacking = all.Where(k => k.OrgId is not null).GroupBy(k => k.OrgId!)
                .Where(g => !g.Any(k => states[k.Kid] == KeyStates.Active)).Select(g => g.Key).Order(StringComparer.Ordinal).ToList();
            return lacking.Count == 0 ? new ReadinessCheck("key_ring", true)
                : new ReadinessCheck("key_ring", false, $"no active signing key in {lacking.Count} org(s): {string.Join(", ", lacking.Take(5))}");
        }, ct));
        return checks;
    }

    private static async Task<ReadinessCheck> GuardAsync(string name, Func<CancellationToken, Task<ReadinessCheck>> check, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(Timeout);
        try
        {
            return await check(cts.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // The exception type only: messages of database drivers can carry host names and user names.
            return new ReadinessCheck(name, false, ex is OperationCanceledException ? "timed out" : ex.GetType().Name);
        }
    }
}
