using System.Diagnostics.Metrics;
using Authio.EdgeProxy.Diagnostics;
using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Authio.Edge.Benchmarks.Diagnostics;

/// <summary>
/// What a request pays to record one of its duration histograms (request, stage, upstream: two or three per request,
/// plus authentication): through the OpenTelemetry SDK as the admin listener configured it (a <c>Histogram&lt;double&gt;</c>
/// with the route's three cached labels, explicit buckets), against the edge's own <see cref="DurationSeries"/> held by
/// the route. Single-threaded: contention between cores comes on top of both.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class DurationHistogramBenchmarks
{
    private static readonly KeyValuePair<string, object?>[] Labels =
    [
        new(RequestMetrics.RouteTag, "orders"), new(RequestMetrics.DecisionTag, "ok"), new(RequestMetrics.CredentialTag, "jwt"),
    ];

    private Meter _meter = null!;
    private MeterProvider _provider = null!;
    private Histogram<double> _sdkHistogram = null!;
    private DurationSeries _series = null!;

    [GlobalSetup]
    public void Setup()
    {
        _meter = new Meter("Authio.Bench.Histograms");
        _sdkHistogram = _meter.CreateHistogram<double>("bench.stage.duration", unit: "s");
        _provider = OpenTelemetry.Sdk.CreateMeterProviderBuilder()
            .AddMeter(_meter.Name)
            .AddView("bench.stage.duration", new ExplicitBucketHistogramConfiguration { Boundaries = RequestMetrics.StageBuckets })
            // A reader, as the admin listener's Prometheus exporter is one: without any the SDK listens to nothing.
            .AddReader(new BaseExportingMetricReader(new DiscardingExporter()))
            .Build();
        if (!_sdkHistogram.Enabled)
        {
            throw new InvalidOperationException("the SDK does not listen: the baseline would measure nothing");
        }
        var histogram = new DurationHistogram("bench_stage_duration_seconds", "Bench.", RequestMetrics.StageBuckets, "http_route", "authio_edge_decision", "authio_edge_credential_type");
        _series = histogram.Series("orders", "ok", "jwt");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _provider.Dispose();
        _meter.Dispose();
    }

    [Benchmark(Baseline = true, Description = "OpenTelemetry SDK: Histogram<double>.Record, 3 cached labels")]
    public void OpenTelemetrySdk() => _sdkHistogram.Record(0.0000031, Labels);

    [Benchmark(Description = "edge: DurationSeries.Record (series held by the route)")]
    public void Edge() => _series.Record(3_100);

    private const int PerThread = 200_000;

    /// <summary>Both cores of the box recording one series at once, as two requests of one route do under load.</summary>
    [Benchmark(OperationsPerInvoke = 2 * PerThread, Description = "edge: DurationSeries.Record, two threads on one series (per record)")]
    public void EdgeTwoThreads() => Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, _ =>
    {
        var series = _series;
        for (var i = 0; i < PerThread; i++)
        {
            series.Record(3_100);
        }
    });

    private sealed class DiscardingExporter : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch) => ExportResult.Success;
    }
}
