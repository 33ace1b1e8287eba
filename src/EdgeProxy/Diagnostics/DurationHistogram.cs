using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Authio.EdgeProxy.Diagnostics;

/// <summary>
/// A Prometheus duration histogram recorded by the edge itself, for the instruments every request records (request,
/// stage, upstream and authentication durations). Through the OpenTelemetry SDK each recording paid a tag-set lookup
/// (hashing every label key and value) and a locked bucket update: ≈ 5 % of the edge's throughput under load
/// (load/README.md, "Where the rest goes"; <c>DurationHistogramBenchmarks</c>). Here a request holds its series
/// (label values resolved once per route and outcome) and records with two interlocked adds. The admin listener's
/// /metrics writes these families next to the SDK's (<see cref="Admin.MetricsExposition"/>), under the same names, labels
/// and buckets as before.
/// </summary>
internal sealed class DurationHistogram
{
    private readonly ConcurrentDictionary<string, DurationSeries> _series = new(StringComparer.Ordinal);
    private readonly string[] _labelNames;
    private readonly int[] _labelOrder;

    /// <param name="name">The exposition name, e.g. <c>authio_edge_stage_duration_seconds</c>.</param>
    /// <param name="bounds">Upper bounds of the buckets in seconds, ascending (<c>+Inf</c> is implied).</param>
    /// <param name="labelNames">The label names, in the order <see cref="Series"/> takes their values.</param>
    public DurationHistogram(string name, string help, double[] bounds, params string[] labelNames)
    {
        Name = name;
        Help = help;
        Bounds = bounds;
        TickBounds = bounds.Select(b => (long)Math.Round(b * Stopwatch.Frequency)).ToArray();
        _labelNames = labelNames;
        // Labels are written sorted by name, as the OpenTelemetry exporter writes them.
        _labelOrder = Enumerable.Range(0, labelNames.Length).OrderBy(i => labelNames[i], StringComparer.Ordinal).ToArray();
    }

    public string Name { get; }

    public string Help { get; }

    public double[] Bounds { get; }

    /// <summary>The bounds in <see cref="Stopwatch"/> ticks: a recording compares integers.</summary>
    internal long[] TickBounds { get; }

    /// <summary>The series of one label-value combination, made on first use; callers keep it (nothing is looked up per request).</summary>
    public DurationSeries Series(params string[] labelValues)
    {
        if (labelValues.Length != _labelNames.Length)
        {
            throw new ArgumentException($"{Name} takes {_labelNames.Length} label values.", nameof(labelValues));
        }
        return _series.GetOrAdd(string.Join('\u0001', labelValues), static (_, state) => new DurationSeries(state.Histogram, state.Values),
            (Histogram: this, Values: labelValues));
    }

    /// <summary>Appends the family in the Prometheus text format (OpenMetrics adds the unit line).</summary>
    public void WriteTo(StringBuilder output, bool openMetrics, string scope)
    {
        if (_series.IsEmpty)
        {
            return;
        }
        output.Append("# TYPE ").Append(Name).Append(" histogram\n");
        if (openMetrics)
        {
            output.Append("# UNIT ").Append(Name).Append(" seconds\n");
        }
        output.Append("# HELP ").Append(Name).Append(' ').Append(Help).Append('\n');
        var labels = new StringBuilder();
        foreach (var (_, series) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            labels.Clear().Append("otel_scope_name=\"").Append(scope).Append('"');
            foreach (var i in _labelOrder)
            {
                labels.Append(',').Append(_labelNames[i]).Append("=\"");
                AppendEscaped(labels, series.LabelValues[i]);
                labels.Append('"');
            }
            var counts = series.Snapshot(out var sumTicks);
            long cumulative = 0;
            for (var b = 0; b < counts.Length; b++)
            {
                cumulative += counts[b];
                output.Append(Name).Append("_bucket{").Append(labels).Append(",le=\"")
                    .Append(b < Bounds.Length ? Bounds[b].ToString(CultureInfo.InvariantCulture) : "+Inf").Append("\"} ")
                    .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
            output.Append(Name).Append("_sum{").Append(labels).Append("} ")
                .Append(((double)sumTicks / Stopwatch.Frequency).ToString(CultureInfo.InvariantCulture)).Append('\n');
            output.Append(Name).Append("_count{").Append(labels).Append("} ")
                .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    private static void AppendEscaped(StringBuilder output, string value)
    {
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => output.Append("\\\\"),
                '"' => output.Append("\\\""),
                '\n' => output.Append("\\n"),
                _ => output.Append(c),
            };
        }
    }
}

/// <summary>One label combination of a <see cref="DurationHistogram"/>: per-bucket counts and the sum, in ticks.</summary>
internal sealed class DurationSeries
{
    private readonly long[] _bounds;
    private readonly long[] _counts;
    private long _sumTicks;

    public DurationSeries(DurationHistogram histogram, string[] labelValues)
    {
        _bounds = histogram.TickBounds;
        _counts = new long[_bounds.Length + 1];
        LabelValues = labelValues;
    }

    public string[] LabelValues { get; }

    /// <summary>One observation of <paramref name="ticks"/> (<see cref="Stopwatch"/> ticks): the first bucket whose bound it does not exceed.</summary>
    public void Record(long ticks)
    {
        var bounds = _bounds;
        var i = 0;
        while (i < bounds.Length && ticks > bounds[i])
        {
            i++;
        }
        Interlocked.Increment(ref _counts[i]);
        Interlocked.Add(ref _sumTicks, ticks);
    }

    /// <summary>The per-bucket counts (not cumulative) and the sum, as of now; count is their total.</summary>
    public long[] Snapshot(out long sumTicks)
    {
        sumTicks = Interlocked.Read(ref _sumTicks);
        var counts = new long[_counts.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = Interlocked.Read(ref _counts[i]);
        }
        return counts;
    }
}
