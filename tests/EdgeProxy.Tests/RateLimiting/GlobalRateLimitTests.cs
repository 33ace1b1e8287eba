using System.Diagnostics;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.RateLimiting;

/// <summary>
/// Two real edges sharing one Redis, in real time (the fleet bucket lives on Redis's clock). Bounded: about 25 s in all.
/// </summary>
[Collection(nameof(HeapMeasurements))] // timing-sensitive: not alongside other test classes on a 2-core box
public sealed class GlobalRateLimitTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private sealed class Fleet : IAsyncDisposable
    {
        public RecordingUpstream Upstream { get; } = new();
        public JwksServer Jwks { get; } = new();
        public TestKey Key { get; } = TestKey.Es256("key-1");
        public ITestRedis Redis { get; private set; } = null!;
        public EdgeTestHost A { get; private set; } = null!;
        public EdgeTestHost B { get; private set; } = null!;

        public static async Task<Fleet> StartAsync(string limit, bool cluster = false)
        {
            var fleet = new Fleet();
            await fleet.Upstream.StartAsync();
            await fleet.Jwks.StartAsync();
            fleet.Jwks.Publish(fleet.Key);
            fleet.Redis = cluster ? await RedisClusterProcess.StartAsync() : await RedisProcess.StartAsync();
            var config = EdgeTestHost.DefaultConfig(fleet.Upstream.Url, fleet.Jwks.JwksUrl);
            config["Edge:Redis"] = fleet.Redis.ConnectionString;
            config["Edge:RateLimits:ExpectedEdges"] = "2";
            config["ReverseProxy:Routes:fleet:ClusterId"] = "up";
            config["ReverseProxy:Routes:fleet:Match:Path"] = "/fleet/{**rest}";
            config["ReverseProxy:Routes:fleet:Metadata:Authio.RateLimit"] = limit;
            fleet.A = await EdgeTestHost.StartAsync(config, b => b.Services.AddSingleton(TimeProvider.System));
            fleet.B = await EdgeTestHost.StartAsync(config, b => b.Services.AddSingleton(TimeProvider.System));
            return fleet;
        }

        public string Token(string subject) => Jwt.Mint(Key, DateTimeOffset.UtcNow, subject);

        /// <summary>
        /// Gets this process ready to serve 300 requests/s at once: requests on another bucket warm JIT, pooled
        /// connections, the Redis script and the lease path (cold, the first responses took ≈ 0.6 s, before the fleet
        /// bucket existed), and the thread pool starts with enough threads (growing from 2, it stood still for 0.6–1.2 s
        /// right after the first requests of the timed run; a stall over 1 s lets the Redis bucket overflow).
        /// </summary>
        public async Task WarmUpAsync()
        {
            ThreadPool.GetMinThreads(out var workers, out var io);
            ThreadPool.SetMinThreads(Math.Max(workers, 64), io);
            var token = Token("warm-up");
            foreach (var edge in new[] { A, B })
            {
                for (var round = 0; round < 3; round++)
                {
                    await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
                    {
                        using var response = await edge.GetAsync("/fleet/x", token);
                    }));
                }
            }
        }

        public bool Healthy => A.Services.GetRequiredService<GlobalLeases>().Healthy && B.Services.GetRequiredService<GlobalLeases>().Healthy;

        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
            await Redis.DisposeAsync();
            await Jwks.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    private readonly record struct Outcome(int Admitted, int Limited, int Other, TimeSpan Elapsed, TimeSpan FirstAdmitted = default, TimeSpan LongestSilence = default);

    /// <summary>Sends at a fixed rate without waiting for responses (an open-loop load, like real clients).</summary>
    private static async Task<Outcome> DriveAsync(EdgeTestHost edge, string token, int perSecond, TimeSpan duration)
    {
        var sends = new List<Task<(int Status, TimeSpan At)>>();
        var clock = Stopwatch.StartNew();
        var total = (int)(perSecond * duration.TotalSeconds);
        var elapsed = TimeSpan.Zero;
        for (var i = 0; i < total; i++)
        {
            var wait = TimeSpan.FromSeconds((double)i / perSecond) - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }
            elapsed = clock.Elapsed;
            sends.Add(SendAsync(edge, token, clock));
        }
        var results = await Task.WhenAll(sends);
        var statuses = results.Select(r => r.Status).ToArray();
        var first = results.Where(r => r.Status == 200).Select(r => r.At).DefaultIfEmpty().Min();
        // The longest stretch without any response: how long the edge (or this box) stood still.
        var times = results.Select(r => r.At).Order().ToArray();
        var silence = times[0];
        for (var i = 1; i < times.Length; i++)
        {
            silence = times[i] - times[i - 1] > silence ? times[i] - times[i - 1] : silence;
        }
        return new Outcome(statuses.Count(s => s == 200), statuses.Count(s => s == 429), statuses.Count(s => s is not (200 or 429)), elapsed, first, silence);
    }

    private static async Task<(int, TimeSpan)> SendAsync(EdgeTestHost edge, string token, Stopwatch clock)
    {
        try
        {
            using var response = await edge.GetAsync("/fleet/x", token);
            return ((int)response.StatusCode, clock.Elapsed);
        }
        catch (HttpRequestException)
        {
            return (-1, clock.Elapsed);
        }
    }

    /// <summary>The fleet buckets' state in Redis (tokens left, last update), for the scenario's report.</summary>
    private static async Task<string> DumpAsync(ITestRedis redis)
    {
        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var lines = new List<string>();
        foreach (var endpoint in connection.GetEndPoints())
        {
            await foreach (var key in connection.GetServer(endpoint).KeysAsync(pattern: "authio:rl:*"))
            {
                var fields = await connection.GetDatabase().HashGetAllAsync(key);
                lines.Add($"{key} {string.Join(" ", fields.Select(f => $"{f.Name}={f.Value}"))}");
            }
        }
        return string.Join("; ", lines);
    }

    [RedisFact]
    public async Task Two_edges_admit_the_fleet_limit_within_five_percent()
    {
        await using var fleet = await Fleet.StartAsync("200/1s global");
        var token = fleet.Token("fleet-user");
        await fleet.WarmUpAsync();
        var before = fleet.Upstream.Received.Count;
        // 150 % of the limit: each edge sends 150/s, the fleet 300/s, for 10 s.
        var outcomes = await Task.WhenAll(
            DriveAsync(fleet.A, token, 150, TimeSpan.FromSeconds(10)),
            DriveAsync(fleet.B, token, 150, TimeSpan.FromSeconds(10)));
        var admitted = outcomes.Sum(o => o.Admitted);
        var seconds = outcomes.Max(o => o.Elapsed).TotalSeconds;
        var expected = 200 + 200 * seconds; // burst + rate × time
        output.WriteLine($"fleet admitted {admitted}, expected {expected:F0} over {seconds:F2} s: A {outcomes[0]}, B {outcomes[1]}");
        output.WriteLine($"leases A {fleet.A.Services.GetRequiredService<GlobalLeases>().Diagnostics}");
        output.WriteLine($"leases B {fleet.B.Services.GetRequiredService<GlobalLeases>().Diagnostics}");
        output.WriteLine($"first admitted after {outcomes.Min(o => o.FirstAdmitted).TotalMilliseconds:F0} ms; redis {await DumpAsync(fleet.Redis)}");
        Assert.True(outcomes.All(o => o.Other == 0), $"unexpected statuses: {string.Join(", ", outcomes)}");
        Assert.True(Math.Abs(admitted - expected) <= expected * 0.05,
            $"fleet admitted {admitted}, expected {expected:F0} ± 5 % over {seconds:F2} s ({outcomes[0]}, {outcomes[1]})");
        Assert.Equal(before + admitted, fleet.Upstream.Received.Count);
        Assert.True(outcomes.All(o => o.Admitted > 0.3 * admitted), "both edges got a share");
    }

    [RedisFact]
    public async Task Two_edges_on_a_redis_cluster_admit_the_fleet_limit()
    {
        await using var fleet = await Fleet.StartAsync("200/1s global", cluster: true);
        var token = fleet.Token("cluster-user");
        await fleet.WarmUpAsync();
        var before = fleet.Upstream.Received.Count;
        var outcomes = await Task.WhenAll(
            DriveAsync(fleet.A, token, 150, TimeSpan.FromSeconds(5)),
            DriveAsync(fleet.B, token, 150, TimeSpan.FromSeconds(5)));
        var admitted = outcomes.Sum(o => o.Admitted);
        var seconds = outcomes.Max(o => o.Elapsed).TotalSeconds;
        var expected = 200 + 200 * seconds;
        output.WriteLine($"cluster: fleet admitted {admitted}, expected {expected:F0} over {seconds:F2} s: A {outcomes[0]}, B {outcomes[1]}; redis {await DumpAsync(fleet.Redis)}");
        Assert.True(fleet.Healthy, "the edges' lease paths work on the cluster");
        Assert.True(outcomes.All(o => o.Other == 0), $"unexpected statuses: {string.Join(", ", outcomes)}");
        // The bucket is one key (one slot): the cluster enforces the same fleet limit as one server; the bound is wider
        // than the single-server test's because this run is shorter.
        Assert.True(Math.Abs(admitted - expected) <= expected * 0.1,
            $"fleet admitted {admitted}, expected {expected:F0} ± 10 % over {seconds:F2} s ({outcomes[0]}, {outcomes[1]})");
        Assert.Equal(before + admitted, fleet.Upstream.Received.Count);
    }

    [LoadFact]
    public async Task Under_the_fleet_limit_nothing_is_refused()
    {
        await using var fleet = await Fleet.StartAsync("200/1s global");
        var token = fleet.Token("under-limit-user");
        await fleet.WarmUpAsync();
        // 90 % of the limit: each edge sends 90/s. Refusals here would be requests turned away while Redis had tokens.
        var outcomes = await Task.WhenAll(
            DriveAsync(fleet.A, token, 90, TimeSpan.FromSeconds(10)),
            DriveAsync(fleet.B, token, 90, TimeSpan.FromSeconds(10)));
        output.WriteLine($"under the limit: A {outcomes[0]}, B {outcomes[1]}");
        output.WriteLine($"leases A {fleet.A.Services.GetRequiredService<GlobalLeases>().Diagnostics}");
        output.WriteLine($"leases B {fleet.B.Services.GetRequiredService<GlobalLeases>().Diagnostics}");
        Assert.True(outcomes.All(o => o.Other == 0), $"unexpected statuses: {string.Join(", ", outcomes)}");
        Assert.Equal(0, outcomes.Sum(o => o.Limited));
    }

    [RedisFact]
    public async Task Without_redis_each_edge_falls_back_to_its_share_and_recovers()
    {
        await using var fleet = await Fleet.StartAsync("200/1s burst 20 global");
        var token = fleet.Token("outage-user");
        var rate = 150;
        var phase = TimeSpan.FromSeconds(3);

        var shared = await Task.WhenAll(DriveAsync(fleet.A, token, rate, phase), DriveAsync(fleet.B, token, rate, phase));
        Assert.True(fleet.Healthy);
        fleet.Redis.Kill();
        var alone = await Task.WhenAll(DriveAsync(fleet.A, token, rate, phase), DriveAsync(fleet.B, token, rate, phase));
        Assert.False(fleet.Healthy);

        Assert.True(shared.Concat(alone).All(o => o.Other == 0), $"no 5xx or failed request: {string.Join(", ", shared.Concat(alone))}");
        // Each edge alone enforces 200/2 = 100/s (burst 10): about 2 × (10 + 100 × 3) = 620 for the fleet.
        var admittedAlone = alone.Sum(o => o.Admitted);
        var seconds = alone.Max(o => o.Elapsed).TotalSeconds;
        var share = 2 * (10 + 100 * seconds);
        output.WriteLine($"with Redis: {shared[0]}, {shared[1]}; without: {alone[0]}, {alone[1]}; fleet alone {admittedAlone}, share {share:F0}");
        Assert.InRange(admittedAlone, share * 0.85, share * 1.1);

        await ((RedisProcess)fleet.Redis).RestartAsync();
        var deadline = Stopwatch.StartNew();
        while (!fleet.Healthy && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            // Traffic keeps flowing while Redis comes back; the edges find it again by themselves.
            await DriveAsync(fleet.A, token, 20, TimeSpan.FromMilliseconds(250));
        }
        Assert.True(fleet.Healthy, "edges recovered once Redis returned");
        var after = await DriveAsync(fleet.B, token, 50, TimeSpan.FromSeconds(1));
        Assert.Equal(0, after.Other);
        Assert.True(after.Admitted > 0);
    }
}
