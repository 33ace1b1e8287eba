using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Storage;
using Authio.EdgeProxy.Sync;
using Authio.EdgeProxy.Tests.EndToEnd;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Authio.EdgeProxy.Tests.Faults;

/// <summary>
/// A burst of revocations (<c>AUTHIO_FAULT_BURST</c>, default 10 000 in CI; the closing note's run used 100 000) committed at
/// the control plane in transactions of 2 000, as a mass logout would write them, while two edges — one over Redis
/// (exact set in Redis), one over the HTTP feed only — serve a client that checks every answer. Neither edge refuses a
/// clean session or admits a revoked one at any moment; both absorb the whole burst; the real sessions inside it are
/// refused on both once each edge has reached the burst's last sequence number. Reports how long the last edge took.
/// </summary>
public sealed class RevocationBurstFaultTests(ITestOutputHelper output)
{
    private const int Batch = 2000;

    private static int Size => int.TryParse(Environment.GetEnvironmentVariable("AUTHIO_FAULT_BURST"), out var n) && n >= Batch ? n : 10_000;

    [RedisFact]
    public async Task A_burst_of_revocations_reaches_every_edge_and_no_answer_is_wrong_meanwhile()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var cp = await RealControlPlane.StartAsync($"--ControlPlane:Redis={redis.ConnectionString}");
        await using var upstream = new RecordingUpstream();
        await upstream.StartAsync();
        var admin = await cp.AccessTokenAsync();
        var clean = await cp.AccessTokenAsync();
        var revoked = await cp.AccessTokenAsync();
        var victims = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            victims.Add(await cp.AccessTokenAsync());
        }
        var edgeKey = (await cp.CreateApiKeyAsync(admin, "edge", ["edge:sync"])).GetProperty("key").GetString()!;
        var overRedis = EdgeTestHost.ControlPlaneOnlyConfig(upstream.Url, cp.Url, edgeKey);
        overRedis["Edge:Redis"] = redis.ConnectionString;
        await using var edgeRedis = await EdgeTestHost.StartAsync(overRedis, b => b.Services.AddSingleton(TimeProvider.System));
        await using var edgeHttp = await EdgeTestHost.StartAsync(EdgeTestHost.ControlPlaneOnlyConfig(upstream.Url, cp.Url, edgeKey),
            b => b.Services.AddSingleton(TimeProvider.System));
        (string Name, EdgeTestHost Host)[] edges = [("redis", edgeRedis), ("http", edgeHttp)];
        foreach (var (_, edge) in edges)
        {
            await edge.WaitForSnapshotAsync();
        }

        async Task UntilRefusedEverywhereAsync(string token, string what)
        {
            var clock = Stopwatch.StartNew();
            foreach (var (name, edge) in edges)
            {
                while ((await edge.GetAsync("/api/x", token)).StatusCode == HttpStatusCode.OK)
                {
                    Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{what}: the revocation never reached the {name} edge");
                    await Task.Delay(25);
                }
            }
        }
        using (var logout = await cp.SendAsync(HttpMethod.Post, "/v1/auth/logout", revoked))
        {
            Assert.True(logout.IsSuccessStatusCode);
        }
        await UntilRefusedEverywhereAsync(revoked, "the first logout");
        var checks = await Task.WhenAll(edges.Select(e => TrafficCheck.StartAsync(async token =>
        {
            using var response = await e.Host.GetAsync("/api/x", token);
            return response.StatusCode;
        }, new Dictionary<string, string> { [clean] = "session" }, new Dictionary<string, string> { [revoked] = "session revoked before" })));
        foreach (var check in checks)
        {
            check.Enter("burst");
        }

        // The burst, written as the control plane writes a mass logout: sid revocations appended to the change log, one
        // transaction per batch; the real sessions are spread through it.
        var db = cp.Services.GetRequiredService<Db>();
        var changes = cp.Services.GetRequiredService<EdgeChangeStore>();
        var orgId = Claim(admin, "org");
        var victimSids = victims.Select(v => Claim(v, "sid")).ToArray();
        var started = Stopwatch.StartNew();
        for (var from = 0; from < Size; from += Batch)
        {
            var first = from;
            await db.InOrgAsync(orgId, async (c, tx) =>
            {
                await changes.LockAsync(c, tx);
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                for (var i = first; i < Math.Min(first + Batch, Size); i++)
                {
                    var victim = i % (Size / victimSids.Length) == Size / victimSids.Length - 1 ? victimSids[i / (Size / victimSids.Length)] : null;
                    await changes.AppendRevocationAsync(c, tx, orgId, "sid", victim ?? $"sess_burst_{i}", null, now, now + 3_600_000);
                }
                return 0;
            });
        }
        var written = started.Elapsed;
        var last = await changes.LastSequenceAsync(CancellationToken.None);

        // Each edge watched on its own: when did it hold the whole burst?
        var reached = await Task.WhenAll(edges.Select(async e =>
        {
            var sync = e.Host.Services.GetRequiredService<EdgeSyncClient>();
            while (sync.Sequence < last)
            {
                Assert.True(started.Elapsed < TimeSpan.FromMinutes(3), $"the {e.Name} edge never took the whole burst (at {sync.Sequence} of {last})");
                await Task.Delay(5);
            }
            return (e.Name, At: started.Elapsed);
        }));
        foreach (var (victim, i) in victims.Select((v, i) => (v, i)))
        {
            foreach (var (name, edge) in edges)
            {
                Assert.NotEqual(HttpStatusCode.OK, (await edge.GetAsync("/api/x", victim)).StatusCode);
            }
            foreach (var check in checks)
            {
                check.Revoke(victim, $"session {i} revoked in the burst");
            }
        }
        foreach (var check in checks)
        {
            check.Enter("after the burst");
        }
        await Task.Delay(TimeSpan.FromSeconds(1));

        // The feed still moves: a logout after the burst reaches both edges.
        var after = await cp.AccessTokenAsync();
        using (var logout = await cp.SendAsync(HttpMethod.Post, "/v1/auth/logout", after))
        {
            Assert.True(logout.IsSuccessStatusCode);
        }
        await UntilRefusedEverywhereAsync(after, "after the burst");
        foreach (var (check, (name, _)) in checks.Zip(edges))
        {
            output.WriteLine($"{name} edge: {await check.StopAndAssertAsync()}");
        }
        output.WriteLine($"burst of {Size} revocations written in {written.TotalSeconds:F1} s ({Size / written.TotalSeconds:F0}/s); "
            + string.Join(", ", reached.Select(r => $"{r.Name} edge had all {r.At.TotalSeconds:F1} s after the first write ({(r.At - written).TotalSeconds:F2} s after the last commit)")));
    }

    private static string Claim(string jwt, string name) =>
        JsonDocument.Parse(Jwt.B64Decode(jwt.Split('.')[1])).RootElement.GetProperty(name).GetString()!;
}
