using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

/// <summary>
/// Revocation propagation: creates API keys at the control plane, warms them at every edge, then revokes them one by
/// one while probing all edges continuously, and reports the time from the revoke call's return to the first 401 at
/// the last edge.
/// </summary>
internal static class Propagation
{
    public static async Task<string> EdgeKeyAsync(string cp, string email, string password)
    {
        using var http = new HttpClient { BaseAddress = new Uri(cp) };
        var admin = await LoginAsync(http, email, password);
        return (await CreateKeyAsync(http, admin, "edge", ["edge:sync"])).GetProperty("key").GetString()!;
    }

    /// <param name="probeIntervalMs">
    /// Pause between one edge's probes. Back-to-back probes from three loops saturate a 2-core box, and then every hop of
    /// the propagation waits for a CPU: the figure measured the probe, not the edge. 0 = back to back.
    /// </param>
    public static async Task<int> RunAsync(string cp, string email, string password, string[] edges, int count, string label, int probeIntervalMs = 2)
    {
        using var http = new HttpClient { BaseAddress = new Uri(cp) };
        var admin = await LoginAsync(http, email, password);
        var keys = new List<(string Id, string Secret)>();
        for (var i = 0; i < count; i++)
        {
            var created = await CreateKeyAsync(http, admin, $"propagation-{i}", ["read:applications"]);
            keys.Add((created.GetProperty("id").GetString()!, created.GetProperty("key").GetString()!));
        }
        using var probe = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var (_, secret) in keys)
        {
            foreach (var edge in edges)
            {
                var status = await StatusAsync(probe, edge, secret);
                if (status != HttpStatusCode.OK)
                {
                    Console.Error.WriteLine($"warm-up: {edge} answered {(int)status}");
                    return 1;
                }
            }
        }

        var latencies = new List<double>();
        foreach (var (id, secret) in keys)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var clock = Stopwatch.StartNew();
            var firstRejection = edges.Select(edge => ProbeUntilRejectedAsync(probe, edge, secret, clock, probeIntervalMs, stop.Token)).ToArray();
            using (var request = new HttpRequestMessage(HttpMethod.Delete, $"/v1/api-keys/{id}"))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
                using var revoked = await http.SendAsync(request);
                revoked.EnsureSuccessStatusCode();
            }
            var returnedAt = clock.Elapsed.TotalMilliseconds;
            var seen = await Task.WhenAll(firstRejection);
            if (seen.Any(double.IsNaN))
            {
                Console.Error.WriteLine($"key {id}: not rejected everywhere within 15 s");
                return 1;
            }
            latencies.Add(Math.Max(0, seen.Max() - returnedAt));
            if (Environment.GetEnvironmentVariable("PROPAGATION_VERBOSE") == "1")
            {
                Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} key {id}: per edge {string.Join(" / ", seen.Select(t => (t - returnedAt).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))} ms");
            }
        }
        latencies.Sort();
        double Percentile(double p) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];
        Console.WriteLine($"{label}: {latencies.Count} revocations across {edges.Length} edges (probe every {probeIntervalMs} ms per edge) — p50 {Percentile(0.50):F1} ms, p90 {Percentile(0.90):F1} ms, p99 {Percentile(0.99):F1} ms, max {latencies[^1]:F1} ms");
        Console.WriteLine($"{label}: slowest five {string.Join(", ", latencies.TakeLast(5).Select(l => l.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))} ms");
        return 0;
    }

    private static async Task<double> ProbeUntilRejectedAsync(HttpClient probe, string edge, string secret, Stopwatch clock, int intervalMs, CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                if (await StatusAsync(probe, edge, secret, cancel) == HttpStatusCode.Unauthorized)
                {
                    return clock.Elapsed.TotalMilliseconds;
                }
                if (intervalMs > 0)
                {
                    await Task.Delay(intervalMs, cancel);
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return double.NaN;
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient probe, string edge, string secret, CancellationToken cancel = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, edge.TrimEnd('/') + "/api/probe");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using var response = await probe.SendAsync(request, cancel);
        return response.StatusCode;
    }

    private static async Task<string> LoginAsync(HttpClient http, string email, string password)
    {
        using var response = await http.PostAsJsonAsync("/v1/auth/login", new { email, password });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    private static async Task<JsonElement> CreateKeyAsync(HttpClient http, string admin, string name, string[] scopes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/api-keys") { Content = JsonContent.Create(new { name, scopes, environment = "live" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
