using System.Diagnostics;
using System.Net.Http.Headers;

/// <summary>
/// load/abuse.sh's driver: valid clients and a flood of refused credentials from the same loopback address, against one
/// edge. Phase "baseline": the valid clients alone; phase "flood": the same valid clients (with tokens the edge has not
/// seen yet, so every first use is a full validation) while flood clients send expired tokens and random well-formed
/// API keys. Prints the valid clients' success rate and the status counts of both, per phase.
/// </summary>
internal static class Abuse
{
    public static async Task<int> RunAsync(string edge, string[] baselineTokens, string[] floodPhaseTokens, string[] flood,
        TimeSpan duration, int validConnections, int floodConnections)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = validConnections + floodConnections, UseProxy = false })
        {
            BaseAddress = new Uri(edge),
        };
        Console.WriteLine($"phase     role   conns  requests      rps  success%  statuses");
        await PhaseAsync(http, "baseline", baselineTokens, [], duration, validConnections, 0);
        await PhaseAsync(http, "flood", floodPhaseTokens, flood, duration, validConnections, floodConnections);
        return 0;
    }

    private static async Task PhaseAsync(HttpClient http, string phase, string[] valid, string[] flood, TimeSpan duration,
        int validConnections, int floodConnections)
    {
        using var stop = new CancellationTokenSource(duration);
        var validCounts = new Counts();
        var floodCounts = new Counts();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, validConnections).Select(i => Worker(http, valid, i * 7919, validCounts, stop.Token))
            .Concat(Enumerable.Range(0, floodConnections).Select(i => Worker(http, flood, i * 104729, floodCounts, stop.Token)))
            .ToArray();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        Print(phase, "valid", validConnections, validCounts, seconds);
        if (floodConnections > 0)
        {
            Print(phase, "flood", floodConnections, floodCounts, seconds);
        }
    }

    private static void Print(string phase, string role, int connections, Counts counts, double seconds)
    {
        var total = counts.Total;
        var success = total == 0 ? 0 : 100.0 * counts.Get(200) / total;
        var statuses = string.Join(' ', counts.Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}={s.Value}"));
        Console.WriteLine($"{phase,-9} {role,-6} {connections,5} {total,9} {total / seconds,8:F0} {success,8:F3}  {statuses}");
    }

    private static async Task Worker(HttpClient http, string[] credentials, int offset, Counts counts, CancellationToken stop)
    {
        var i = offset;
        while (!stop.IsCancellationRequested)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/items");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credentials[i++ % credentials.Length]);
            try
            {
                using var response = await http.SendAsync(request, stop);
                counts.Add((int)response.StatusCode);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpRequestException)
            {
                counts.Add(0);
            }
        }
    }

    private sealed class Counts
    {
        private readonly long[] _byStatus = new long[600];

        public void Add(int status) => Interlocked.Increment(ref _byStatus[status]);

        public long Get(int status) => Interlocked.Read(ref _byStatus[status]);

        public long Total => _byStatus.Sum();

        public IEnumerable<KeyValuePair<int, long>> Statuses =>
            _byStatus.Select((count, status) => new KeyValuePair<int, long>(status, count)).Where(p => p.Value > 0);
    }
}
