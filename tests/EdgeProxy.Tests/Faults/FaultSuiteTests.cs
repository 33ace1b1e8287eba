using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.Faults;

/// <summary>
/// Faults under traffic, end to end: a control plane in its own process (SQLite, Redis), a real edge following it over
/// HTTP and Redis, and a client sending a clean token and a revoked one without pause. Redis is killed (-9) and
/// restarted, the control plane is killed (-9) and restarted, then paused (SIGSTOP) and resumed. Throughout: the clean
/// token is never refused and never gets a 5xx (the edge has what it needs), the revoked one is never accepted, the
/// edge's /readyz reports Redis down while it is, a revocation made after each recovery reaches the edge, and the audit
/// chain verifies at the end. Bounded: about a minute (the pause lasts AUTHIO_FAULT_PAUSE_SECONDS, default 10; the
/// closing note's run used 30).
/// </summary>
public sealed class FaultSuiteTests
{
    private static TimeSpan Pause => TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("AUTHIO_FAULT_PAUSE_SECONDS"), out var s) ? s : 10);

    private sealed record Session(string Access);

    [RedisFact]
    public async Task Under_traffic_redis_and_control_plane_crashes_and_a_hang_lose_no_revocation_and_refuse_no_clean_request()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var cp = await ControlPlaneProcess.StartAsync($"--ControlPlane:Redis={redis.ConnectionString}");
        await using var upstream = new RecordingUpstream();
        await upstream.StartAsync();

        async Task<Session> LoginAsync()
        {
            using var response = await cp.Http.PostAsJsonAsync("/v1/auth/login", new { email = ControlPlaneProcess.AdminEmail, password = ControlPlaneProcess.Password });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return new Session((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!);
        }
        async Task<HttpStatusCode> CpAsync(HttpMethod method, string path, string token, object? body = null)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.Authorization = new("Bearer", token);
            using var response = await cp.Http.SendAsync(request);
            return response.StatusCode;
        }

        // Every session the test needs, signed in up front.
        var admin = await LoginAsync();
        var clean = await LoginAsync();
        var revoked = await LoginAsync();
        var afterRedis = await LoginAsync();
        var afterCrash = await LoginAsync();
        var afterHang = await LoginAsync();
        string edgeKey;
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/api-keys") { Content = JsonContent.Create(new { name = "edge", scopes = new[] { "edge:sync" }, environment = "live" }) })
        {
            request.Headers.Authorization = new("Bearer", admin.Access);
            using var created = await cp.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            edgeKey = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        }

        var config = EdgeTestHost.ControlPlaneOnlyConfig(upstream.Url, cp.Url, edgeKey);
        config["Edge:Redis"] = redis.ConnectionString;
        // Real time at the edge too: its retries after a failed call to the control plane wait on its clock.
        await using var edge = await EdgeTestHost.StartAsync(config, b => b.Services.AddSingleton(TimeProvider.System));
        await edge.WaitForSnapshotAsync();

        async Task<HttpStatusCode> EdgeAsync(Session session)
        {
            using var response = await edge.GetAsync("/api/x", session.Access);
            return response.StatusCode;
        }
        async Task UntilRefusedAsync(Session session, string what)
        {
            var clock = Stopwatch.StartNew();
            while (await EdgeAsync(session) == HttpStatusCode.OK)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{what}: the revocation never reached the edge");
                await Task.Delay(25);
            }
        }
        async Task<JsonElement> ReadyzAsync()
        {
            using var response = await edge.Admin.GetAsync("/readyz");
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }
        async Task UntilAsync(Func<Task<bool>> condition, string what)
        {
            var clock = Stopwatch.StartNew();
            while (!await condition())
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), what);
                await Task.Delay(50);
            }
        }

        Assert.Equal(HttpStatusCode.OK, await EdgeAsync(revoked));
        Assert.True((await CpAsync(HttpMethod.Post, "/v1/auth/logout", revoked.Access)).IsSuccess(), "the first logout");
        await UntilRefusedAsync(revoked, "the first logout");

        // The client: the clean token and the revoked one, back to back, until the faults are over.
        var phase = "steady";
        var wrong = new ConcurrentQueue<string>();
        var sent = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var traffic = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var now = Volatile.Read(ref phase);
                var cleanStatus = await EdgeAsync(clean);
                if (cleanStatus != HttpStatusCode.OK)
                {
                    wrong.Enqueue($"{now}: the clean token got {(int)cleanStatus}");
                }
                if (await EdgeAsync(revoked) == HttpStatusCode.OK)
                {
                    wrong.Enqueue($"{now}: the revoked token was accepted");
                }
                sent.AddOrUpdate(now, 1, (_, n) => n + 1);
                await Task.Delay(5);
            }
        });

        // Redis killed (-9) and back.
        Volatile.Write(ref phase, "redis killed");
        redis.Kill();
        await UntilAsync(async () => (await ReadyzAsync()) is var r && r.GetProperty("status").GetString() == "degraded"
            && !r.GetProperty("redis").GetProperty("available").GetBoolean(), "/readyz never reported Redis down");
        await Task.Delay(TimeSpan.FromSeconds(3));
        await redis.RestartAsync();
        Volatile.Write(ref phase, "redis restarted");
        await UntilAsync(async () => (await ReadyzAsync()).GetProperty("status").GetString() == "ready", "/readyz never recovered after Redis returned");
        Assert.True((await CpAsync(HttpMethod.Post, "/v1/auth/logout", afterRedis.Access)).IsSuccess(), "logout after Redis returned");
        await UntilRefusedAsync(afterRedis, "after Redis returned");

        // The control plane killed (-9) and started again on the same data.
        Volatile.Write(ref phase, "control plane killed");
        cp.Kill();
        await Task.Delay(TimeSpan.FromSeconds(3));
        await cp.RestartAsync();
        Volatile.Write(ref phase, "control plane restarted");
        Assert.True((await CpAsync(HttpMethod.Post, "/v1/auth/logout", afterCrash.Access)).IsSuccess(), "logout after the restart");
        await UntilRefusedAsync(afterCrash, "after the control plane's restart");

        // The control plane hangs (SIGSTOP), then resumes.
        Volatile.Write(ref phase, "control plane paused");
        cp.Pause();
        await Task.Delay(Pause);
        cp.Resume();
        Volatile.Write(ref phase, "control plane resumed");
        Assert.True((await CpAsync(HttpMethod.Post, "/v1/auth/logout", afterHang.Access)).IsSuccess(), "logout after the hang");
        await UntilRefusedAsync(afterHang, "after the control plane resumed");
        await Task.Delay(500);

        stop.Cancel();
        await traffic;
        Assert.True(wrong.IsEmpty, string.Join("\n", wrong.Take(20)));
        foreach (var p in new[] { "redis killed", "redis restarted", "control plane killed", "control plane restarted", "control plane paused", "control plane resumed" })
        {
            Assert.True(sent.TryGetValue(p, out var n) && n > 0, $"no traffic while '{p}'");
        }

        // Nothing lost from the audit chain by the crash or the hang.
        using var verify = new HttpRequestMessage(HttpMethod.Get, "/v1/audit-events/verify");
        verify.Headers.Authorization = new("Bearer", admin.Access);
        using var verified = await cp.Http.SendAsync(verify);
        var report = await verified.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(report.GetProperty("ok").GetBoolean(), report.ToString());
    }
}

internal static class StatusCodeExtensions
{
    public static bool IsSuccess(this HttpStatusCode status) => (int)status is >= 200 and < 300;
}
