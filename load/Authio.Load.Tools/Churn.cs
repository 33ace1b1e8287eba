using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace Authio.Load.Tools;

/// <summary>
/// Memory under token churn (load/memory.sh): CONNS clients send requests with tokens picked uniformly at random from
/// the file (so the hit rate is about cache size / distinct tokens), while the edge's resident memory (VmRSS of PID)
/// and GC heap (its own /metrics) are printed every few seconds. Ends with one SUMMARY line.
/// </summary>
internal static class Churn
{
    public static async Task<int> RunAsync(string edge, string metricsUrl, int pid, string[] tokens, TimeSpan duration,
        TimeSpan warmup, TimeSpan interval, int conns)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = conns, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(edge), Timeout = TimeSpan.FromSeconds(30) };
        using var scrape = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        long ok = 0, non2xx = 0, errors = 0;
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, conns).Select(w => Task.Run(async () =>
        {
            var random = new Random(w * 7919 + 1);
            while (!stop.IsCancellationRequested)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/api/churn");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[random.Next(tokens.Length)]);
                try
                {
                    using var response = await client.SendAsync(request, stop.Token);
                    if ((int)response.StatusCode is >= 200 and < 300)
                    {
                        Interlocked.Increment(ref ok);
                    }
                    else
                    {
                        Interlocked.Increment(ref non2xx);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })).ToArray();

        Console.WriteLine($"{"t_s",6} {"rss_mib",8} {"anon_mib",8} {"file_mib",8} {"gc_heap_mib",11} {"gc_committed_mib",16} {"rps",7} {"hit_rate",8} {"non2xx",7} {"errors",6}");
        var samples = new List<(double T, double Rss, double Heap)>();
        long lastRequests = 0;
        var lastT = 0d;
        (double Hits, double Misses) last = (0, 0), atWarmup = (0, 0);
        var warmedUp = false;
        double rssAtWarmup = 0, maxRssAfterWarmup = 0, maxHeapAfterWarmup = 0;
        while (clock.Elapsed < duration)
        {
            await Task.Delay(interval);
            var t = clock.Elapsed.TotalSeconds;
            var (rss, anon, file) = ResidentMiB(pid);
            var metrics = await ScrapeAsync(scrape, metricsUrl);
            var heap = metrics.Sum("dotnet_gc_last_collection_heap_size_bytes") / 1048576d;
            var committed = metrics.Sum("dotnet_gc_last_collection_memory_committed_size_bytes") / 1048576d;
            var lookups = (Hits: metrics.Sum("authio_edge_token_cache_lookups_total", "result=\"hit\""),
                Misses: metrics.Sum("authio_edge_token_cache_lookups_total", "result=\"miss\""));
            var requests = Interlocked.Read(ref ok) + Interlocked.Read(ref non2xx) + Interlocked.Read(ref errors);
            var lookupsDelta = lookups.Hits - last.Hits + lookups.Misses - last.Misses;
            var hitRate = lookupsDelta > 0 ? (lookups.Hits - last.Hits) / lookupsDelta : 0;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{t,6:F0} {rss,8:F1} {anon,8:F1} {file,8:F1} {heap,11:F1} {committed,16:F1} {(requests - lastRequests) / (t - lastT),7:F0} {hitRate,8:P1} {Interlocked.Read(ref non2xx),7} {Interlocked.Read(ref errors),6}"));
            (lastRequests, lastT, last) = (requests, t, lookups);
            if (!warmedUp && clock.Elapsed >= warmup)
            {
                (warmedUp, rssAtWarmup, atWarmup) = (true, rss, lookups);
            }
            if (warmedUp)
            {
                samples.Add((t, rss, heap));
                maxRssAfterWarmup = Math.Max(maxRssAfterWarmup, rss);
                maxHeapAfterWarmup = Math.Max(maxHeapAfterWarmup, heap);
            }
        }
        stop.Cancel();
        await Task.WhenAll(workers);
        // Growth over the second half of the run: the last sample against the largest one of the first half's end (mid-run).
        var mid = duration.TotalSeconds / 2;
        var atMid = samples.Where(s => s.T <= mid).Select(s => s.Rss).DefaultIfEmpty(samples.FirstOrDefault().Rss).Last();
        var end = samples.Count > 0 ? samples[^1].Rss : 0;
        var growth = atMid > 0 ? (end - atMid) / atMid : 0;
        var finalMetrics = await ScrapeAsync(scrape, metricsUrl);
        var hits = finalMetrics.Sum("authio_edge_token_cache_lookups_total", "result=\"hit\"") - atWarmup.Hits;
        var misses = finalMetrics.Sum("authio_edge_token_cache_lookups_total", "result=\"miss\"") - atWarmup.Misses;
        var evictions = finalMetrics.Sum("authio_edge_token_cache_evictions_total");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"SUMMARY tokens={tokens.Length} seconds={duration.TotalSeconds:F0} requests={ok + non2xx + errors} ok={ok} non2xx={non2xx} errors={errors} " +
            $"rss_after_warmup_mib={rssAtWarmup:F1} max_rss_after_warmup_mib={maxRssAfterWarmup:F1} end_rss_mib={end:F1} " +
            $"growth_second_half_pct={growth * 100:F1} max_gc_heap_mib={maxHeapAfterWarmup:F1} hit_rate_after_warmup={(hits + misses > 0 ? hits / (hits + misses) : 0):P1} " +
            $"evictions={evictions:F0} cache_capacity={finalMetrics.Sum("authio_edge_token_cache_capacity"):F0} " +
            $"cache_entries={finalMetrics.Sum("authio_edge_token_cache_entries"):F0} budget_mib={finalMetrics.Sum("authio_edge_memory_budget_bytes") / 1048576:F0} " +
            $"pressure_trims={finalMetrics.Sum("authio_edge_memory_pressure_trims_total"):F0} monitor_gcs={finalMetrics.Sum("authio_edge_memory_collections_total"):F0} compactions={finalMetrics.Sum("authio_edge_memory_compactions_total"):F0}"));
        return non2xx == 0 && errors == 0 ? 0 : 1;
    }

    /// <summary>VmRSS of the process, and its anonymous (heap, stacks, JIT code, native buffers) and file-backed (assemblies, libraries) parts, in MiB.</summary>
    private static (double Rss, double Anon, double File) ResidentMiB(int pid)
    {
        double rss = 0, anon = 0, file = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            var kib = line.StartsWith("VmRSS:", StringComparison.Ordinal) || line.StartsWith("RssAnon:", StringComparison.Ordinal)
                || line.StartsWith("RssFile:", StringComparison.Ordinal)
                ? double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024
                : 0;
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = kib;
            }
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                anon = kib;
            }
            else if (line.StartsWith("RssFile:", StringComparison.Ordinal))
            {
                file = kib;
            }
        }
        return (rss, anon, file);
    }

    private static async Task<Metrics> ScrapeAsync(HttpClient client, string url)
    {
        try
        {
            return new Metrics(await client.GetStringAsync(url));
        }
        catch (HttpRequestException)
        {
            return new Metrics("");
        }
    }

    /// <summary>A Prometheus text exposition, summed by metric name (and an optional label filter).</summary>
    private sealed class Metrics(string text)
    {
        public double Sum(string name, string? label = null)
        {
            var total = 0d;
            foreach (var line in text.Split('\n'))
            {
                if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length <= name.Length || line[name.Length] is not ('{' or ' '))
                {
                    continue;
                }
                if (label is not null && !line.Contains(label, StringComparison.Ordinal))
                {
                    continue;
                }
                var value = line[(line.LastIndexOf('}') is var brace and >= 0 ? brace + 1 : name.Length)..].Trim().Split(' ')[0];
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                {
                    total += v;
                }
            }
            return total;
        }
    }
}
