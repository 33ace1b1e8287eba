using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Authio.EdgeProxy.Tests.EndToEnd;
using Authio.EdgeProxy.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Authio.EdgeProxy.Tests.Faults;

/// <summary>
/// An edge (its own process, following a real control plane over HTTP and Redis) is killed (-9) under traffic; while it
/// is down a session is revoked; it is started again. Checked per answer: nothing revoked is admitted at any moment —
/// also not in the window between the port opening and the edge being ready — and once <c>/readyz</c> says 200 every
/// clean request is admitted and the revocation made while it was down is enforced: it loads keys and revocations
/// before it reports ready. While it is down or starting, clean requests are not answered or refused (a load balancer
/// routes by readiness); those are counted, not failed.
/// </summary>
public sealed class EdgeRestartFaultTests(ITestOutputHelper output)
{
    [RedisFact]
    public async Task An_edge_killed_and_started_again_is_ready_only_with_the_revocations_made_while_it_was_down()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var cp = await RealControlPlane.StartAsync($"--ControlPlane:Redis={redis.ConnectionString}");
        await using var upstream = new RecordingUpstream();
        await upstream.StartAsync();
        var admin = await cp.AccessTokenAsync();
        var clean = await cp.AccessTokenAsync();
        var revoked = await cp.AccessTokenAsync();
        var whileDown = await cp.AccessTokenAsync();
        var edgeKey = (await cp.CreateApiKeyAsync(admin, "edge", ["edge:sync"])).GetProperty("key").GetString()!;
        var config = EdgeTestHost.ControlPlaneOnlyConfig(upstream.Url, cp.Url, edgeKey);
        config["Edge:Redis"] = redis.ConnectionString;
        await using var edge = await EdgeProcess.StartAsync(config);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

        async Task<HttpStatusCode?> EdgeAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, edge.Url + "/api/x");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }
        async Task<(HttpStatusCode Status, JsonElement Body)> ReadyzAsync()
        {
            using var response = await client.GetAsync(edge.AdminUrl + "/readyz");
            return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
        }
        async Task UntilReadyAsync(string what)
        {
            var clock = Stopwatch.StartNew();
            while ((await ReadyzAsync()).Status != HttpStatusCode.OK)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{what}: the edge never became ready: {edge.Output}");
                await Task.Delay(10);
            }
        }
        async Task UntilRefusedAsync(string token, string what)
        {
            var clock = Stopwatch.StartNew();
            while (await EdgeAsync(token) == HttpStatusCode.OK)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{what}: the revocation never reached the edge");
                await Task.Delay(25);
            }
        }

        await UntilReadyAsync("first start");
        using (var logout = await cp.SendAsync(HttpMethod.Post, "/v1/auth/logout", revoked))
        {
            Assert.True(logout.IsSuccessStatusCode);
        }
        await UntilRefusedAsync(revoked, "the first logout");
        Assert.Equal(HttpStatusCode.OK, await EdgeAsync(whileDown));
        var traffic = await TrafficCheck.StartAsync(EdgeAsync, new Dictionary<string, string> { [clean] = "session", [whileDown] = "session revoked while the edge is down" },
            new Dictionary<string, string> { [revoked] = "session revoked before" });

        traffic.Enter("edge killed", cleanMayFail: true);
        edge.Kill();
        using (var logout = await cp.SendAsync(HttpMethod.Post, "/v1/auth/logout", whileDown))
        {
            Assert.True(logout.IsSuccessStatusCode);
        }
        // The edge is down: from its first answer on, this session must be refused.
        traffic.Revoke(whileDown, "session revoked while the edge was down");
        await Task.Delay(TimeSpan.FromSeconds(1));

        traffic.Enter("edge starting", cleanMayFail: true);
        var started = Stopwatch.StartNew();
        await edge.StartAgainAsync();
        await UntilReadyAsync("after the restart");
        var readyAfter = started.Elapsed;
        traffic.Enter("edge ready again");
        Assert.NotEqual(HttpStatusCode.OK, await EdgeAsync(whileDown));
        Assert.Equal(HttpStatusCode.OK, await EdgeAsync(clean));
        // Ready (200) may still say "degraded" for a moment: the Redis connection of the new process is made in the
        // background, and a busy machine can time out its first calls. It must settle on "ready".
        var settle = Stopwatch.StartNew();
        var ready = (await ReadyzAsync()).Body;
        while (ready.GetProperty("status").GetString() != "ready")
        {
            output.WriteLine($"ready but not settled yet: {ready}");
            Assert.True(settle.Elapsed < TimeSpan.FromSeconds(15), $"/readyz never settled on \"ready\": {ready}");
            await Task.Delay(50);
            ready = (await ReadyzAsync()).Body;
        }
        await Task.Delay(TimeSpan.FromSeconds(1));

        // And it follows the control plane again.
        var afterRestart = await cp.AccessTokenAsync();
        Assert.Equal(HttpStatusCode.OK, await EdgeAsync(afterRestart));
        using (var logout = await cp.SendAsync(HttpMethod.Post, "/v1/auth/logout", afterRestart))
        {
            Assert.True(logout.IsSuccessStatusCode);
        }
        await UntilRefusedAsync(afterRestart, "after the restart");
        var summary = await traffic.StopAndAssertAsync();
        output.WriteLine($"{summary}; ready {readyAfter.TotalSeconds:F1} s after the process was started again");
    }
}
