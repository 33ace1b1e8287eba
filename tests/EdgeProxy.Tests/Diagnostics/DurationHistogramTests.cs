using System.Diagnostics;
using System.Text;
using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Tests.Diagnostics;

/// <summary>The edge's own histograms, as a Prometheus scrape reads them: buckets by upper bound, cumulative, sum, count.</summary>
public sealed class DurationHistogramTests
{
    private static readonly long Microsecond = Stopwatch.Frequency / 1_000_000;

    [Fact]
    public void An_observation_counts_in_the_first_bucket_whose_bound_it_does_not_exceed_and_buckets_are_cumulative()
    {
        var histogram = new DurationHistogram("t_duration_seconds", "Test.", [0.000001, 0.00001], "route", "code");
        var series = histogram.Series("r1", "ok");
        series.Record(Microsecond); // exactly 1 µs: le="1E-06"
        series.Record(2 * Microsecond);
        series.Record(10 * Microsecond); // exactly 10 µs: le="1E-05"
        series.Record(11 * Microsecond); // only +Inf
        series.Record(1_000_000 * Microsecond);

        var text = Write(histogram, openMetrics: false);
        Assert.Contains("""t_duration_seconds_bucket{otel_scope_name="Authio.Edge",code="ok",route="r1",le="1E-06"} 1""", text);
        Assert.Contains("""t_duration_seconds_bucket{otel_scope_name="Authio.Edge",code="ok",route="r1",le="1E-05"} 3""", text);
        Assert.Contains("""t_duration_seconds_bucket{otel_scope_name="Authio.Edge",code="ok",route="r1",le="+Inf"} 5""", text);
        Assert.Contains("""t_duration_seconds_count{otel_scope_name="Authio.Edge",code="ok",route="r1"} 5""", text);
        var sum = text.Split('\n').Single(l => l.StartsWith("t_duration_seconds_sum{", StringComparison.Ordinal));
        Assert.Equal(1.000024, double.Parse(sum[(sum.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture), 9);
        Assert.StartsWith("# TYPE t_duration_seconds histogram\n# HELP t_duration_seconds Test.\n", text);
        Assert.DoesNotContain("# UNIT", text);
    }

    [Fact]
    public void Series_are_shared_by_label_values_and_label_values_are_escaped()
    {
        var histogram = new DurationHistogram("t_duration_seconds", "Test.", [0.001], "route");
        Assert.Same(histogram.Series("a"), histogram.Series(new string("a".AsSpan())));
        histogram.Series("we\"ird\\route\n").Record(1);
        var text = Write(histogram, openMetrics: true);
        Assert.Contains("""t_duration_seconds_count{otel_scope_name="Authio.Edge",route="we\"ird\\route\n"} 1""", text);
        Assert.Contains("""t_duration_seconds_count{otel_scope_name="Authio.Edge",route="a"} 0""", text);
        Assert.Contains("# UNIT t_duration_seconds seconds\n", text);
        Assert.Throws<ArgumentException>(() => histogram.Series("a", "b"));
    }

    [Fact]
    public void A_family_without_series_writes_nothing()
    {
        Assert.Equal("", Write(new DurationHistogram("t_duration_seconds", "Test.", [0.001], "route"), openMetrics: true));
    }

    [Fact]
    public void Concurrent_recordings_are_all_counted()
    {
        var histogram = new DurationHistogram("t_duration_seconds", "Test.", [0.000001, 0.001]);
        var series = histogram.Series();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                series.Record(i % 3 == 0 ? 1 : 2_000 * Microsecond);
            }
        });
        var counts = series.Snapshot(out var sum);
        Assert.Equal(200_000, counts.Sum());
        Assert.Equal(4 * 16_667, counts[0]);
        Assert.Equal(4 * 16_667 + 4 * 33_333 * 2_000 * Microsecond, sum);
    }

    private static string Write(DurationHistogram histogram, bool openMetrics)
    {
        var text = new StringBuilder();
        histogram.WriteTo(text, openMetrics, "Authio.Edge");
        return text.ToString();
    }
}
