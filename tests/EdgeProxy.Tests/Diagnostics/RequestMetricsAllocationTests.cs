using System.Diagnostics;
using System.Diagnostics.Metrics;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Authio.EdgeProxy.Tests.Diagnostics;

/// <summary>
/// Recording the per-route instruments with the OpenTelemetry SDK listening (as on the admin listener) allocates
/// nothing once each route's and code's labels exist: the label arrays are cached, never built per request.
/// </summary>
/// <remarks>Run alone: the SDK listens to every <c>Authio.Edge</c> meter in the process, other tests' edges included.</remarks>
[Collection(nameof(Admin.RouteMetricsTests))]
public sealed class RequestMetricsAllocationTests
{
    [Fact]
    public void Recording_per_route_durations_allocates_nothing_once_warm()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new EdgeMetrics(services.GetRequiredService<IMeterFactory>(), new IssuerRegistry([]), TimeProvider.System);
        var exporter = new CountingExporter();
        using var provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(EdgeMetrics.MeterName)
            .AddView(RequestMetrics.StageDurationName, new ExplicitBucketHistogramConfiguration { Boundaries = RequestMetrics.StageBuckets })
            .AddReader(new BaseExportingMetricReader(exporter))
            .Build();
        var requests = metrics.Requests;
        StringValues jwt = "Bearer eyJhbGciOiJFUzI1NiJ9.e30.sig";
        StringValues apiKey = "Bearer sk_live_" + new string('a', 40);
        // Route ids arrive as the configuration's own strings; copies show the lookup is by value, not reference.
        var routeIds = new[] { new string("orders".AsSpan()), new string("public".AsSpan()) };
        void Requests()
        {
            foreach (var routeId in routeIds)
            {
                var route = requests.ForRoute(routeId);
                var started = Stopwatch.GetTimestamp();
                var credential = RequestMetrics.CredentialOf("jwt", jwt);
                requests.Stage(route, "ok", credential, started, Stopwatch.GetTimestamp());
                requests.Forwarded(route, "ok", credential, started, Stopwatch.GetTimestamp(), Stopwatch.GetTimestamp(), StatusCodes.Status200OK);
                requests.Forwarded(route, "bad_gateway", credential, started, Stopwatch.GetTimestamp(), Stopwatch.GetTimestamp(),
                    StatusCodes.Status502BadGateway);
                requests.Refused(route, "unauthorized", RequestMetrics.CredentialOf(null, apiKey), started);
                requests.Refused(route, "rate_limit_exceeded", RequestMetrics.CredentialOf(null, default), started);
            }
            requests.Refused(requests.UnmatchedTags, "not_found", RequestMetrics.CredentialOf(null, jwt), Stopwatch.GetTimestamp());
        }
        for (var i = 0; i < 200; i++)
        {
            Requests();
        }

        // The least of a few rounds: a per-call allocation shows in every round (1 000 calls), a one-off of the runtime
        // (tiering, a lazily grown table) under a busy test run in one only.
        var least = long.MaxValue;
        for (var round = 0; round < 5 && least > 0; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++)
            {
                Requests();
            }
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, least);

        provider.ForceFlush();
        Assert.True(exporter.Points > 0, "the SDK aggregated nothing: the test measured a meter nobody listens to");
    }

    private sealed class CountingExporter : BaseExporter<Metric>
    {
        public int Points { get; private set; }

        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            {
                foreach (ref readonly var _ in metric.GetMetricPoints())
                {
                    Points++;
                }
            }
            return ExportResult.Success;
        }
    }
}
