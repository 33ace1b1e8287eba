using System.Diagnostics;
using System.Diagnostics.Metrics;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace Authio.EdgeProxy.Tests.Diagnostics;

/// <summary>
/// Recording the per-route histograms allocates nothing once each route's and code's series exist (they are held by
/// the route, never looked up or built per request), and what was recorded is what the exposition says.
/// </summary>
/// <remarks>Run with the other allocation tests: nothing else records on this thread meanwhile.</remarks>
[Collection(nameof(Admin.RouteMetricsTests))]
public sealed class RequestMetricsAllocationTests
{
    [Fact]
    public void Recording_per_route_durations_allocates_nothing_once_warm()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new EdgeMetrics(services.GetRequiredService<IMeterFactory>(), new IssuerRegistry([]), TimeProvider.System);
        var requests = metrics.Requests;
        StringValues jwt = "Bearer eyJhbGciOiJFUzI1NiJ9.e30.sig";
        StringValues apiKey = "Bearer sk_live_" + new string('a', 40);
        // Route ids arrive as the configuration's own strings; copies show the lookup is by value, not reference.
        var routeIds = new[] { new string("orders".AsSpan()), new string("public".AsSpan()) };
        var calls = 0;
        void Requests()
        {
            calls++;
            foreach (var routeId in routeIds)
            {
                var route = requests.ForRoute(routeId);
                var started = Stopwatch.GetTimestamp();
                var credential = RequestMetrics.CredentialOf("jwt", jwt);
                requests.Stage(route, "ok", credential, started, Stopwatch.GetTimestamp());
                requests.Forwarded(route, "ok", credential, started, Stopwatch.GetTimestamp(), Stopwatch.GetTimestamp(), Stopwatch.GetTimestamp(), StatusCodes.Status200OK);
                requests.Forwarded(route, "bad_gateway", credential, started, Stopwatch.GetTimestamp(), Stopwatch.GetTimestamp(),
                    Stopwatch.GetTimestamp(), StatusCodes.Status502BadGateway);
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

        // Every call recorded once per series: the exposition counts them all.
        Assert.Equal(calls, CountOf(metrics, "orders", "ok", "jwt"));
        Assert.Equal(calls, CountOf(metrics, "public", "ok", "jwt"));
        Assert.Equal(calls, CountOf(metrics, "orders", "unauthorized", "api_key"));
        Assert.Equal(calls, CountOf(metrics, "public", "bad_gateway", "jwt"));
        Assert.Equal(calls, CountOf(metrics, "unmatched", "not_found", "jwt"));
    }

    /// <summary>The whole-request count of one series, as /metrics writes it.</summary>
    private static long CountOf(EdgeMetrics metrics, string route, string decision, string credential)
    {
        var text = new System.Text.StringBuilder();
        metrics.Requests.Request.WriteTo(text, openMetrics: false, EdgeMetrics.MeterName);
        var prefix = "http_server_request_duration_seconds_count{otel_scope_name=\"Authio.Edge\"," +
            $"authio_edge_credential_type=\"{credential}\",authio_edge_decision=\"{decision}\",http_route=\"{route}\"}} ";
        var line = text.ToString().Split('\n').Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return long.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
