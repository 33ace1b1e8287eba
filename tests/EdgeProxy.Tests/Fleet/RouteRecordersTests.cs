using System.Diagnostics;
using System.Diagnostics.Metrics;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Fleet;
using Authio.EdgeProxy.Keys;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Configuration;

namespace Authio.EdgeProxy.Tests.Fleet;

/// <summary>
/// The per-route HdrHistogram recorders behind fleet reports: true percentiles (not averages), one recorder per
/// configured route built when routes load, figures kept until a report carrying them is delivered, and 0 B per request.
/// </summary>
/// <remarks>With the other allocation tests: nothing else records on these meters meanwhile.</remarks>
[Collection(nameof(Admin.RouteMetricsTests))]
public sealed class RouteRecordersTests
{
    private static readonly long Millisecond = Stopwatch.Frequency / 1000;

    private static (RouteRecorders Recorders, RequestMetrics Requests, InMemoryConfigProvider Routes) Create(params string[] routeIds)
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new EdgeMetrics(services.GetRequiredService<IMeterFactory>(), new IssuerRegistry([]), TimeProvider.System);
        var routes = new InMemoryConfigProvider(routeIds.Select(id => new RouteConfig { RouteId = id, ClusterId = "up" }).ToList(), []);
        return (new RouteRecorders([routes], metrics, new EdgeOptions()), metrics.Requests, routes);
    }

    [Fact]
    public void Percentiles_come_from_the_histogram_and_survive_an_undelivered_report()
    {
        var (recorders, _, _) = Create("orders", "public");
        for (var i = 0; i < 98; i++)
        {
            recorders.Record("orders", Millisecond);
        }
        recorders.Record("orders", 100 * Millisecond);
        recorders.Record("orders", 100 * Millisecond);
        recorders.Record("not-configured", Millisecond); // not a configured route: not counted

        var first = Assert.Single(recorders.Collect());
        Assert.Equal("orders", first.Route);
        Assert.Equal(100, first.Requests);
        Assert.InRange(first.P50Ms, 0.99, 1.02); // the average would be 2.98
        Assert.InRange(first.P99Ms, 99, 101);

        // Not delivered: the next report covers both intervals.
        recorders.Record("orders", Millisecond);
        recorders.Record("public", 3 * Millisecond);
        var second = recorders.Collect().ToDictionary(r => r.Route);
        Assert.Equal(101, second["orders"].Requests);
        Assert.Equal(1, second["public"].Requests);

        recorders.Delivered();
        Assert.Empty(recorders.Collect());
    }

    [Fact]
    public void A_route_reload_adds_recorders_and_keeps_the_others()
    {
        var (recorders, _, routes) = Create("orders");
        recorders.Record("orders", Millisecond);
        routes.Update([new RouteConfig { RouteId = "orders", ClusterId = "up" }, new RouteConfig { RouteId = "invoices", ClusterId = "up" }], []);
        recorders.Record("invoices", Millisecond);
        var collected = recorders.Collect().ToDictionary(r => r.Route);
        Assert.Equal(1, collected["orders"].Requests);
        Assert.Equal(1, collected["invoices"].Requests);
        Assert.Contains(RequestMetrics.Unmatched, recorders.RouteIds);
    }

    [Fact]
    public void Recording_through_the_request_metrics_allocates_nothing()
    {
        var (recorders, requests, _) = Create("orders", "public");
        var routes = new[] { requests.ForRoute(new string("orders".AsSpan())), requests.ForRoute(new string("public".AsSpan())), requests.UnmatchedTags };
        void Requests()
        {
            foreach (var route in routes)
            {
                var started = Stopwatch.GetTimestamp() - Millisecond;
                var now = Stopwatch.GetTimestamp();
                requests.Forwarded(route, "ok", CredentialType.Jwt, started, started, now, now, 200);
                requests.Refused(route, "unauthorized", CredentialType.ApiKey, started);
            }
        }
        for (var i = 0; i < 200; i++)
        {
            Requests();
        }
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
        Assert.Equal(3, recorders.Collect().Count); // the sink was wired: every route recorded
    }
}
