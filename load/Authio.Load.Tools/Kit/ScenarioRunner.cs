using System.Diagnostics;
using System.Globalization;
using HdrHistogram;

namespace Authio.Load.Tools.Kit;

/// <summary>A credential line: the secret sent, and for API keys made at the control plane, the key's id.</summary>
internal sealed record Credential(string Secret, string? Id);

/// <summary>Overrides from the command line (all optional), so a scenario file serves short checks and long runs.</summary>
internal sealed record RunOverrides(TimeSpan? Warmup, TimeSpan? Duration, double? Rps, int? Connections);

/// <summary>
/// Runs one scenario against one base URL and measures it. Open model: a dispatcher thread starts request i at
/// <c>start + i / rate</c> whether or not earlier ones have answered (requests beyond the connection pool wait for a
/// connection, and that wait counts), and each latency is measured from that intended start, so a stall shows as the
/// latency every request scheduled during it saw (no coordinated omission). Closed model: N loops, each sending when
/// its previous answer arrived (latency from the actual send, as wrk reports it).
/// </summary>
internal sealed class ScenarioRunner
{
    /// <summary>Latencies are recorded in microseconds, 1 µs … 60 s, 3 significant digits.</summary>
    private const long HighestMicros = 60_000_000;
    private const int MaxInFlight = 100_000;
    private static readonly double MicrosPerTick = 1_000_000.0 / Stopwatch.Frequency;

    private readonly Scenario _scenario;
    private readonly Credential[] _credentials;
    private readonly int[] _order;
    private readonly TextWriter _log;
    private readonly ControlPlaneClient? _controlPlane;
    private readonly HashSet<int> _expected;

    public ScenarioRunner(Scenario scenario, Credential[] credentials, ControlPlaneClient? controlPlane, TextWriter log)
    {
        _scenario = scenario;
        _credentials = credentials;
        _controlPlane = controlPlane;
        _log = log;
        _expected = [.. scenario.ExpectStatuses];
        _order = BuildOrder(scenario.Credentials?.Order ?? "sequential", credentials.Length);
    }

    public async Task<RunResult> RunAsync(string role, string label, int round, string baseUrl, RunOverrides overrides, CancellationToken cancel)
    {
        var warmup = overrides.Warmup ?? _scenario.WarmupSpan;
        var duration = overrides.Duration ?? _scenario.DurationSpan;
        var connections = overrides.Connections ?? _scenario.Arrival.Connections ?? _scenario.Connections;
        var open = _scenario.Arrival.Model == "open";
        var phases = open ? Phases(overrides.Rps) : [];
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, Math.Min(connections, 64)), io);

        var state = new RunState(Stopwatch.GetTimestamp(), warmup, duration, _expected);
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"   {label,-14} {baseUrl}{_scenario.Request.Path}: {(open ? $"open model, {DescribePhases(phases)}" : $"closed model, {connections} connections")}, warm-up {warmup.TotalSeconds:0.#} s, measured {duration.TotalSeconds:0.#} s"));
        using var ticker = new CancellationTokenSource();
        var timeline = Task.Run(() => state.TickAsync(ticker.Token), CancellationToken.None);
        var storm = _scenario.Revoke is { } revoke && _controlPlane is not null
            ? Task.Run(() => StormAsync(revoke, state, cancel), CancellationToken.None)
            : Task.CompletedTask;
        if (open)
        {
            await RunOpenAsync(http, state, phases, cancel);
        }
        else
        {
            await RunClosedAsync(http, state, connections, cancel);
        }
        await storm;
        ticker.Cancel();
        await timeline;
        var result = state.ToResult(role, label, round, baseUrl + _scenario.Request.Path, open ? "open" : "closed", open ? phases[0].Rps : null, connections);
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"   {label,-14} {result.ThroughputRps,9:F1} rps  p50 {result.LatencyMs.P50,8:F2}  p90 {result.LatencyMs.P90,8:F2}  p99 {result.LatencyMs.P99,8:F2}  p99.9 {result.LatencyMs.P999,8:F2}  max {result.LatencyMs.Max,8:F2} ms  statuses {string.Join(' ', result.Statuses.Select(s => $"{s.Key}={s.Value}"))}{(result.NotSent > 0 ? $"  not sent {result.NotSent}" : "")}"));
        return result;
    }

    private RatePhase[] Phases(double? rpsOverride)
    {
        if (rpsOverride is { } rps)
        {
            return [new RatePhase { Rps = rps, Duration = "1s" }];
        }
        return _scenario.Arrival.Phases is { Length: > 0 } phases ? phases : [new RatePhase { Rps = _scenario.Arrival.Rps!.Value, Duration = "1s" }];
    }

    private static string DescribePhases(RatePhase[] phases) => phases.Length == 1
        ? string.Create(CultureInfo.InvariantCulture, $"{phases[0].Rps:0.#} req/s")
        : string.Join(" → ", phases.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Rps:0.#} req/s for {p.Duration}"))) + " (the last phase repeats)";

    private async Task RunOpenAsync(HttpClient http, RunState state, RatePhase[] phases, CancellationToken cancel)
    {
        var spans = phases.Select(p => Scenario.ParseDuration(p.Duration, "phase").TotalSeconds).ToArray();
        double RateAt(double measuredSeconds)
        {
            // The warm-up runs at the first phase's rate; then the phases in turn, the last one for the rest of the run.
            var t = measuredSeconds;
            for (var i = 0; i < phases.Length - 1; i++)
            {
                if (t < spans[i])
                {
                    return phases[i].Rps;
                }
                t -= spans[i];
            }
            return phases[^1].Rps;
        }

        var end = state.Warmup.TotalSeconds + state.Duration.TotalSeconds;
        var dispatched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // A dedicated thread: the schedule must not wait behind the thread pool the responses are handled on.
        var dispatcher = new Thread(() =>
        {
            try
            {
                long index = 0;
                var next = 0.0;
                while (next < end && !cancel.IsCancellationRequested)
                {
                    var now = state.Seconds(Stopwatch.GetTimestamp());
                    if (next > now)
                    {
                        // Sleep(1) lasts ≈ 1.05 ms on Linux: closer than that, yield instead, so a request starts within
                        // a fraction of a millisecond of its time (any lateness is in its latency: it counts from then).
                        if (next - now > 0.0012)
                        {
                            Thread.Sleep(1);
                        }
                        else
                        {
                            Thread.Yield();
                        }
                        continue;
                    }
                    var intended = state.Start + (long)(next * Stopwatch.Frequency);
                    state.Scheduled(intended);
                    if (Volatile.Read(ref state.InFlight) >= MaxInFlight)
                    {
                        state.NotSentOne(intended);
                    }
                    else
                    {
                        Interlocked.Increment(ref state.InFlight);
                        var credential = index++;
                        ThreadPool.UnsafeQueueUserWorkItem(__ => { _ = SendAsync(http, state, intended, credential, cancel); }, null);
                    }
                    next += 1.0 / RateAt(Math.Max(0, next - state.Warmup.TotalSeconds));
                }
                dispatched.SetResult();
            }
            catch (Exception e)
            {
                dispatched.SetException(e);
            }
        })
        { IsBackground = true, Name = "open-model dispatcher" };
        dispatcher.Start();
        await dispatched.Task;
        await state.DrainAsync(TimeSpan.FromSeconds(35));
    }

    private async Task RunClosedAsync(HttpClient http, RunState state, int connections, CancellationToken cancel)
    {
        var endTicks = state.Start + (long)((state.Warmup + state.Duration).TotalSeconds * Stopwatch.Frequency);
        long index = 0;
        var loops = Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            while (!cancel.IsCancellationRequested)
            {
                var now = Stopwatch.GetTimestamp();
                if (now >= endTicks)
                {
                    return;
                }
                state.Scheduled(now);
                Interlocked.Increment(ref state.InFlight);
                await SendAsync(http, state, now, Interlocked.Increment(ref index) - 1, cancel);
            }
        }, CancellationToken.None)).ToArray();
        await Task.WhenAll(loops);
    }

    private async Task SendAsync(HttpClient http, RunState state, long intended, long index, CancellationToken cancel)
    {
        var status = 0;
        var sent = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(new HttpMethod(_scenario.Request.Method), _scenario.Request.Path);
            foreach (var (name, value) in _scenario.Request.Headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
            if (_credentials.Length > 0 && _scenario.Credentials is { } source)
            {
                var secret = _credentials[_order[index % _order.Length]].Secret;
                request.Headers.TryAddWithoutValidation(source.Header, source.Scheme.Length > 0 ? source.Scheme + " " + secret : secret);
            }
            sent = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request, cancel);
            status = (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            status = 0;
        }
        finally
        {
            state.Completed(intended, sent, Stopwatch.GetTimestamp(), status);
            Interlocked.Decrement(ref state.InFlight);
        }
    }

    private async Task StormAsync(RevocationStorm storm, RunState state, CancellationToken cancel)
    {
        var keys = _credentials.Where(c => c.Id is not null).ToArray();
        var count = (int)Math.Round(keys.Length * Math.Clamp(storm.Share, 0, 1));
        var after = state.Warmup + Scenario.ParseDuration(storm.After, "revoke.after");
        var first = state.Start + (long)(after.TotalSeconds * Stopwatch.Frequency);
        for (var i = 0; i < count && !cancel.IsCancellationRequested; i++)
        {
            var due = first + (long)(i / storm.PerSecond * Stopwatch.Frequency);
            var wait = TimeSpan.FromSeconds((due - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancel);
            }
            if (state.Seconds(Stopwatch.GetTimestamp()) >= state.Warmup.TotalSeconds + state.Duration.TotalSeconds)
            {
                break;
            }
            await _controlPlane!.RevokeApiKeyAsync(keys[i].Id!, cancel);
            state.Event($"revoked API key {keys[i].Id}");
        }
    }

    /// <summary>The credential index for request n: round robin, or a seeded uniform sequence (the same in every run).</summary>
    private static int[] BuildOrder(string order, int count)
    {
        if (count == 0)
        {
            return [0];
        }
        if (order == "random")
        {
            var random = new Random(20261129);
            return Enumerable.Range(0, Math.Max(65_536, count * 4)).Select(_ => random.Next(count)).ToArray();
        }
        return Enumerable.Range(0, count).ToArray();
    }

    /// <summary>Everything measured in one run; written from many threads without locks.</summary>
    private sealed class RunState(long start, TimeSpan warmup, TimeSpan duration, HashSet<int> expected)
    {
        public long InFlight;
        private readonly LongConcurrentHistogram _response = new(1, HighestMicros, 3);
        private readonly LongConcurrentHistogram _service = new(1, HighestMicros, 3);
        private readonly Recorder _interval = new(1, HighestMicros, 3, (id, low, high, digits) => new LongHistogram(id, low, high, digits));
        private readonly long[] _statuses = new long[600];
        private readonly long[] _secondStatuses = new long[600];
        private readonly long _measureStart = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        private readonly long _measureEnd = start + (long)((warmup + duration).TotalSeconds * Stopwatch.Frequency);
        private readonly List<TimelinePoint> _timeline = [];
        private readonly List<string> _events = [];
        private long _requests;
        private long _completedInWindow;
        private long _secondSent;
        private long _secondCompleted;
        private long _errors;
        private long _unexpected;
        private long _notSent;
        private long _lastSnapshot;

        public long Start { get; } = start;

        public TimeSpan Warmup { get; } = warmup;

        public TimeSpan Duration { get; } = duration;

        public double Seconds(long timestamp) => (timestamp - Start) / (double)Stopwatch.Frequency;

        public void Scheduled(long intended)
        {
            if (intended >= _measureStart && intended < _measureEnd)
            {
                Interlocked.Increment(ref _requests);
                Interlocked.Increment(ref _secondSent);
            }
        }

        public void NotSentOne(long intended)
        {
            if (intended >= _measureStart)
            {
                Interlocked.Increment(ref _notSent);
            }
        }

        public void Completed(long intended, long sent, long done, int status)
        {
            if (intended < _measureStart || intended >= _measureEnd)
            {
                return;
            }
            var response = Math.Clamp((long)((done - intended) * MicrosPerTick), 1, HighestMicros);
            _response.RecordValue(response);
            _service.RecordValue(Math.Clamp((long)((done - sent) * MicrosPerTick), 1, HighestMicros));
            _interval.RecordValue(response);
            var slot = status is > 0 and < 600 ? status : 0;
            Interlocked.Increment(ref _statuses[slot]);
            Interlocked.Increment(ref _secondStatuses[slot]);
            Interlocked.Increment(ref _completedInWindow);
            Interlocked.Increment(ref _secondCompleted);
            if (slot == 0)
            {
                Interlocked.Increment(ref _errors);
            }
            if (!expected.Contains(slot))
            {
                Interlocked.Increment(ref _unexpected);
            }
        }

        public void Event(string text)
        {
            var line = string.Create(CultureInfo.InvariantCulture, $"{Seconds(Stopwatch.GetTimestamp()) - Warmup.TotalSeconds:F3} s: {text}");
            lock (_events)
            {
                _events.Add(line);
            }
        }

        public async Task DrainAsync(TimeSpan limit)
        {
            var until = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
            while (Volatile.Read(ref InFlight) > 0 && Stopwatch.GetTimestamp() < until)
            {
                await Task.Delay(10);
            }
        }

        /// <summary>One timeline point per measured second (and a last, partial one for late answers).</summary>
        public async Task TickAsync(CancellationToken stop)
        {
            var wait = TimeSpan.FromSeconds((_measureStart - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            try
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, stop);
                }
                _interval.Reset();
                Interlocked.Exchange(ref _secondSent, 0);
                Interlocked.Exchange(ref _secondCompleted, 0);
                Array.Clear(_secondStatuses);
                _lastSnapshot = Stopwatch.GetTimestamp();
                using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
                while (await timer.WaitForNextTickAsync(stop))
                {
                    Snapshot();
                }
            }
            catch (OperationCanceledException)
            {
            }
            if (Volatile.Read(ref _secondCompleted) > 0)
            {
                Snapshot();
            }
        }

        private void Snapshot()
        {
            var now = Stopwatch.GetTimestamp();
            var interval = (now - _lastSnapshot) / (double)Stopwatch.Frequency;
            _lastSnapshot = now;
            var histogram = _interval.GetIntervalHistogram();
            var statuses = new SortedDictionary<string, long>(StringComparer.Ordinal);
            for (var i = 0; i < _secondStatuses.Length; i++)
            {
                var n = Interlocked.Exchange(ref _secondStatuses[i], 0);
                if (n > 0)
                {
                    statuses[StatusName(i)] = n;
                }
            }
            _timeline.Add(new TimelinePoint
            {
                T = Math.Round(Seconds(now) - Warmup.TotalSeconds, 3),
                IntervalSeconds = Math.Round(interval, 3),
                Sent = Interlocked.Exchange(ref _secondSent, 0),
                Completed = Interlocked.Exchange(ref _secondCompleted, 0),
                Statuses = statuses,
                P50Ms = Ms(histogram.TotalCount > 0 ? histogram.GetValueAtPercentile(50) : 0),
                P99Ms = Ms(histogram.TotalCount > 0 ? histogram.GetValueAtPercentile(99) : 0),
                MaxMs = Ms(histogram.TotalCount > 0 ? histogram.GetMaxValue() : 0),
            });
        }

        public RunResult ToResult(string role, string label, int round, string url, string model, double? scheduledRps, int connections)
        {
            var statuses = new SortedDictionary<string, long>(StringComparer.Ordinal);
            for (var i = 0; i < _statuses.Length; i++)
            {
                if (_statuses[i] > 0)
                {
                    statuses[StatusName(i)] = _statuses[i];
                }
            }
            var curve = new List<double[]>();
            if (_response.TotalCount > 0)
            {
                foreach (var point in _response.Percentiles(5))
                {
                    curve.Add([Math.Round(point.PercentileLevelIteratedTo, 5), Ms(point.ValueIteratedTo)]);
                }
            }
            lock (_events)
            {
                return new RunResult
                {
                    Label = label,
                    Role = role,
                    Round = round,
                    Url = url,
                    Model = model,
                    ScheduledRps = scheduledRps,
                    Connections = connections,
                    WarmupSeconds = Warmup.TotalSeconds,
                    DurationSeconds = Duration.TotalSeconds,
                    Requests = _requests,
                    ThroughputRps = Math.Round(_completedInWindow / Duration.TotalSeconds, 1),
                    TransportErrors = _errors,
                    Unexpected = _unexpected,
                    NotSent = _notSent,
                    Statuses = statuses,
                    LatencyMs = Summary(_response),
                    ServiceTimeMs = Summary(_service),
                    PercentileCurve = curve,
                    Timeline = [.. _timeline],
                    Events = [.. _events],
                };
            }
        }

        private static string StatusName(int slot) => slot == 0 ? "error" : slot.ToString(CultureInfo.InvariantCulture);

        private static double Ms(long micros) => Math.Round(micros / 1000.0, 3);

        private static LatencySummary Summary(HistogramBase h) => h.TotalCount == 0 ? new LatencySummary() : new LatencySummary
        {
            P50 = Ms(h.GetValueAtPercentile(50)),
            P90 = Ms(h.GetValueAtPercentile(90)),
            P99 = Ms(h.GetValueAtPercentile(99)),
            P999 = Ms(h.GetValueAtPercentile(99.9)),
            Max = Ms(h.GetMaxValue()),
            Mean = Math.Round(h.GetMean() / 1000.0, 3),
        };
    }
}
