using System.Collections.Frozen;
using System.Diagnostics;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.Shared.Fleet;
using HdrHistogram;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace Authio.EdgeProxy.Fleet;

/// <summary>
/// One HdrHistogram <see cref="Recorder"/> per configured route (and <c>unmatched</c>), built when routes load and
/// swapped in whole on a reload, so recording a request is a lookup and an atomic increment: no allocation, no lock.
/// A route id that is not (yet) in the map is not counted.
/// </summary>
internal sealed class RouteRecorders : IRequestDurationSink
{
    /// <summary>Recorded in microseconds, 1 µs … 60 s (longer requests count as 60 s), 2 significant digits (≤ 1 % error).</summary>
    public const long HighestMicros = 60_000_000;
    private static readonly double MicrosPerTimestamp = 1_000_000.0 / Stopwatch.Frequency;

    private readonly int _maxRoutes;
    private readonly IProxyConfigProvider[] _providers;
    private readonly Lock _rebuild = new();
    private FrozenDictionary<string, RouteRecorder> _routes;

    public RouteRecorders(IEnumerable<IProxyConfigProvider> providers, EdgeMetrics metrics, EdgeOptions options)
    {
        _maxRoutes = options.Fleet.MaxRoutes;
        _providers = providers.ToArray();
        _routes = FrozenDictionary<string, RouteRecorder>.Empty;
        Rebuild();
        foreach (var provider in _providers)
        {
            ChangeToken.OnChange(() => provider.GetConfig().ChangeToken, Rebuild);
        }
        metrics.Requests.DurationSink = this;
    }

    /// <summary>The routes with a recorder, <c>unmatched</c> included.</summary>
    public IEnumerable<string> RouteIds => _routes.Keys;

    public void Record(string routeId, long elapsedTimestamp)
    {
        if (_routes.TryGetValue(routeId, out var route))
        {
            route.Record(elapsedTimestamp);
        }
    }

    /// <summary>Moves every route's interval into its pending histogram (kept until a report carrying it is delivered).</summary>
    public IReadOnlyList<RouteLatency> Collect()
    {
        var result = new List<RouteLatency>();
        foreach (var (id, route) in _routes)
        {
            if (route.Collect() is { } latency)
            {
                result.Add(latency with { Route = id });
            }
        }
        return result;
    }

    /// <summary>The last collected figures reached the control plane (or were refused for good): start afresh.</summary>
    public void Delivered()
    {
        foreach (var route in _routes.Values)
        {
            route.Delivered();
        }
    }

    private void Rebuild()
    {
        lock (_rebuild)
        {
            var ids = _providers.SelectMany(p => p.GetConfig().Routes.Select(r => r.RouteId))
                .Where(id => !string.IsNullOrEmpty(id) && id.Length <= FleetPaths.MaxNameLength)
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(_maxRoutes)
                .Append(RequestMetrics.Unmatched).Distinct(StringComparer.Ordinal);
            var current = _routes;
            // Routes that stay keep their recorder (and what it holds); removed ones are dropped with their data.
            _routes = ids.ToFrozenDictionary(id => id, id => current.TryGetValue(id, out var r) ? r : new RouteRecorder(), StringComparer.Ordinal);
        }
    }

    /// <summary>One route: the live recorder, and the interval(s) collected but not yet delivered.</summary>
    internal sealed class RouteRecorder
    {
        private readonly Recorder _recorder = HistogramFactory.With32BitBucketSize().WithValuesFrom(1).WithValuesUpTo(HighestMicros)
            .WithPrecisionOf(2).WithThreadSafeWrites().WithThreadSafeReads().Create();
        private readonly LongHistogram _pending = new(1, HighestMicros, 2);
        private HistogramBase? _interval;

        public void Record(long elapsedTimestamp) =>
            _recorder.RecordValue(Math.Clamp((long)(elapsedTimestamp * MicrosPerTimestamp), 1, HighestMicros));

        /// <summary>Only the reporter calls this (one at a time); null when the route saw no request since the last delivery.</summary>
        public RouteLatency? Collect()
        {
            _interval = _recorder.GetIntervalHistogram(_interval);
            _pending.Add(_interval);
            var count = _pending.TotalCount;
            return count == 0 ? null : new RouteLatency("", count, Millis(50), Millis(95), Millis(99));
        }

        public void Delivered() => _pending.Reset();

        private double Millis(double percentile) => _pending.GetValueAtPercentile(percentile) / 1000.0;
    }
}
