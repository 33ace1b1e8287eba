using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Authio.EdgeProxy.Tests.Faults;

/// <summary>
/// PostgreSQL stopped (immediate shutdown: every backend killed mid-transaction) under a control plane that is taking
/// writes, with an edge following it and a client checking every edge answer. While the database is down every write
/// is answered 201 or 503 <c>store_unavailable</c> problem+json with <c>Retry-After</c> — never a 500 — and the edge keeps
/// serving from what it has (clean 200, revoked 401). After the restart writes succeed again, every write that was
/// acknowledged is there, a revocation reaches the edge and the audit chain verifies. Its own server, so the shared
/// test database stays up; skipped (visibly) without PostgreSQL, like the other PostgreSQL suites.
/// </summary>
public sealed class PostgresStopFaultTests(ITestOutputHelper output)
{
    private static TimeSpan Outage => TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("AUTHIO_FAULT_PG_OUTAGE_SECONDS"), out var s) ? s : 4);

    [StoreFact]
    public async Task Postgres_stopped_mid_writes_answers_503_loses_no_acknowledged_write_and_the_edge_keeps_serving()
    {
        await using var pg = await PostgresServer.StartAsync();
        await using var database = await PostgresDatabase.CreateAsync(pg.ConnectionString);
        await using var cp = await ControlPlaneProcess.StartAsync(database.Arguments);
        await using var upstream = new RecordingUpstream();
        await upstream.StartAsync();

        async Task<string> LoginAsync()
        {
            using var response = await cp.Http.PostAsJsonAsync("/v1/auth/login", new { email = ControlPlaneProcess.AdminEmail, password = ControlPlaneProcess.Password });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
        }
        async Task<HttpResponseMessage> CpAsync(HttpMethod method, string path, string token, object? body = null, int seconds = 10)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.Authorization = new("Bearer", token);
            // An answer within 10 s or none: a write left hanging by the outage is a failure of its own.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
            return await cp.Http.SendAsync(request, timeout.Token);
        }
        // The checks after the restart read everything back; on a busy CI machine that is not the outage's claim, so
        // they get longer, and a read that still gets no answer names itself and shows the control plane's log.
        async Task<HttpResponseMessage> ReadBackAsync(string path, string token)
        {
            var started = Stopwatch.StartNew();
            try
            {
                return await CpAsync(HttpMethod.Get, path, token, seconds: 30);
            }
            catch (TaskCanceledException)
            {
                Assert.Fail($"GET {path}: no answer in {started.Elapsed.TotalSeconds:F0} s after PostgreSQL restarted; control plane: "
                    + cp.Output[^Math.Min(cp.Output.Length, 4000)..]);
                throw;
            }
        }

        var admin = await LoginAsync();
        var clean = await LoginAsync();
        var revoked = await LoginAsync();
        var afterRestart = await LoginAsync();
        string edgeKey;
        using (var created = await CpAsync(HttpMethod.Post, "/v1/api-keys", admin, new { name = "edge", scopes = new[] { "edge:sync" }, environment = "live" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            edgeKey = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        }
        await using var edge = await EdgeTestHost.StartAsync(EdgeTestHost.ControlPlaneOnlyConfig(upstream.Url, cp.Url, edgeKey),
            b => b.Services.AddSingleton(TimeProvider.System));
        await edge.WaitForSnapshotAsync();
        async Task<HttpStatusCode?> EdgeAsync(string token)
        {
            using var response = await edge.GetAsync("/api/x", token);
            return response.StatusCode;
        }
        async Task UntilRefusedAsync(string token, string what)
        {
            var clock = Stopwatch.StartNew();
            while (await EdgeAsync(token) == HttpStatusCode.OK)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{what}: the revocation never reached the edge");
                await Task.Delay(25);
            }
        }

        using (var logout = await CpAsync(HttpMethod.Post, "/v1/auth/logout", revoked))
        {
            Assert.True(logout.IsSuccessStatusCode);
        }
        await UntilRefusedAsync(revoked, "the first logout");
        var traffic = await TrafficCheck.StartAsync(EdgeAsync, new Dictionary<string, string> { [clean] = "session" }, new Dictionary<string, string> { [revoked] = "session" });

        // Writers: API keys created back to back, each answer checked; every acknowledged key must survive.
        var acknowledged = new ConcurrentBag<string>();
        var unavailable = 0;
        var wrongWrites = new ConcurrentQueue<string>();
        var writePhase = "before";
        var afterSuccesses = 0;
        using var stopWriting = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stopWriting.IsCancellationRequested; i++)
            {
                var phase = Volatile.Read(ref writePhase);
                HttpResponseMessage response;
                try
                {
                    response = await CpAsync(HttpMethod.Post, "/v1/api-keys", admin, new { name = $"w{w}-{i}", scopes = new[] { "edge:sync" }, environment = "live" });
                }
                catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
                {
                    wrongWrites.Enqueue($"{phase}: no answer ({error.GetType().Name})");
                    continue;
                }
                using (response)
                {
                    var body = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        acknowledged.Add(JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!);
                        if (phase == "after")
                        {
                            Interlocked.Increment(ref afterSuccesses);
                        }
                    }
                    else if (response.StatusCode == HttpStatusCode.ServiceUnavailable
                        && response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                        && JsonDocument.Parse(body).RootElement.GetProperty("code").GetString() == "store_unavailable"
                        && response.Headers.RetryAfter is not null)
                    {
                        Interlocked.Increment(ref unavailable);
                        await Task.Delay(50);
                    }
                    else
                    {
                        wrongWrites.Enqueue($"{phase}: {(int)response.StatusCode} {body}");
                    }
                }
                await Task.Delay(10);
            }
        })).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        traffic.Enter("postgres stopped");
        Volatile.Write(ref writePhase, "outage");
        await pg.StopImmediatelyAsync();
        await Task.Delay(Outage);
        Assert.True(Volatile.Read(ref unavailable) > 0, "no write was answered 503 while PostgreSQL was down");
        await pg.StartAgainAsync();
        traffic.Enter("postgres restarted");
        Volatile.Write(ref writePhase, "after");
        var clock = Stopwatch.StartNew();
        while (Volatile.Read(ref afterSuccesses) < 10)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"writes never succeeded again after PostgreSQL restarted ({acknowledged.Count} acknowledged, "
                + $"{Volatile.Read(ref unavailable)} answered 503; other answers: {string.Join("; ", wrongWrites.Take(5))}): " + cp.Output[^Math.Min(cp.Output.Length, 4000)..]);
            await Task.Delay(50);
        }
        var recoveredAfter = clock.Elapsed;
        await stopWriting.CancelAsync();
        await Task.WhenAll(writers);
        Assert.True(wrongWrites.IsEmpty, $"{wrongWrites.Count} wrong write answers:\n" + string.Join("\n", wrongWrites.Take(10)));

        // A revocation made after the restart reaches the edge.
        using (var logout = await CpAsync(HttpMethod.Post, "/v1/auth/logout", afterRestart))
        {
            Assert.True(logout.IsSuccessStatusCode, $"logout after the restart: {(int)logout.StatusCode}");
        }
        await UntilRefusedAsync(afterRestart, "after PostgreSQL restarted");
        var summary = await traffic.StopAndAssertAsync();

        // No acknowledged write lost.
        foreach (var id in acknowledged)
        {
            using var read = await ReadBackAsync($"/v1/api-keys/{id}", admin);
            Assert.True(read.StatusCode == HttpStatusCode.OK, $"acknowledged API key {id} is gone: {(int)read.StatusCode}");
        }
        var verifying = Stopwatch.StartNew();
        using (var verify = await ReadBackAsync("/v1/audit-events/verify", admin))
        {
            output.WriteLine($"audit chain verified in {verifying.Elapsed.TotalMilliseconds:F0} ms");
            var report = await verify.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(report.GetProperty("ok").GetBoolean(), report.ToString());
        }
        Assert.DoesNotContain("Unhandled", cp.Output, StringComparison.Ordinal);
        output.WriteLine($"edge: {summary}");
        output.WriteLine($"writes: {acknowledged.Count} acknowledged (all present after the restart), {unavailable} answered 503 store_unavailable, 0 other; "
            + $"first 10 successes {recoveredAfter.TotalSeconds:F1} s after the restart (outage {Outage.TotalSeconds:F0} s)");
    }
}
