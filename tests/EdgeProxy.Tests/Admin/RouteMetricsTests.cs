using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Admin;

/// <summary>
/// What an operator scraping the admin listener sees per route: request, edge-stage and upstream durations labelled
/// by route id (<c>unmatched</c> without one), decision code and credential type, with label sets bounded by config.
/// </summary>
/// <remarks>
/// The OpenTelemetry SDK listens to meters by name, so an admin listener also sees the instruments of other edges the
/// test process runs at the same time: these tests run alone, and the bound is asserted on the series this edge adds.
/// </remarks>
[Collection(nameof(RouteMetricsTests))]
public sealed partial class RouteMetricsTests : IAsyncLifetime
{
    private readonly EdgeWorld _world = new();

    public Task InitializeAsync() => _world.InitializeAsync();

    public Task DisposeAsync() => _world.DisposeAsync();

    [Fact]
    public async Task Per_route_durations_carry_route_decision_and_credential_type()
    {
        var edge = _world.Edge;
        var token = _world.Mint();
        using (var ok = await edge.GetAsync("/api/orders", token))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        (await edge.GetAsync("/api/orders")).Dispose(); // no credential: unauthorized, anonymous
        (await edge.GetAsync("/api/orders", "sk_live_" + new string('a', 40))).Dispose(); // an API key shape
        (await edge.GetAsync("/public/page")).Dispose(); // anonymous route
        using (var missing = await edge.GetAsync("/nowhere/at/all", token))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        // A forwarded request is recorded once the upstream's answer is relayed, which the client may see first.
        var text = await ScrapeUntilAsync(edge, t => Series(t, "http_server_request_duration_seconds_count").Count >= 5);
        var requests = Series(text, "http_server_request_duration_seconds_count");
        Assert.Contains(requests, s => s.Contains("http_route=\"api\"") && s.Contains("authio_edge_decision=\"ok\"")
            && s.Contains("authio_edge_credential_type=\"jwt\""));
        Assert.Contains(requests, s => s.Contains("http_route=\"api\"") && s.Contains("authio_edge_decision=\"unauthorized\"")
            && s.Contains("authio_edge_credential_type=\"anonymous\""));
        Assert.Contains(requests, s => s.Contains("http_route=\"api\"") && s.Contains("authio_edge_credential_type=\"api_key\""));
        Assert.Contains(requests, s => s.Contains("http_route=\"public\"") && s.Contains("authio_edge_decision=\"ok\"")
            && s.Contains("authio_edge_credential_type=\"anonymous\""));
        Assert.Contains(requests, s => s.Contains("http_route=\"unmatched\"") && s.Contains("authio_edge_decision=\"not_found\"")
            && s.Contains("authio_edge_credential_type=\"jwt\""));

        var stage = Series(text, "authio_edge_stage_duration_seconds_count");
        Assert.Contains(stage, s => s.Contains("http_route=\"api\"") && s.Contains("authio_edge_decision=\"ok\""));
        var upstream = Series(text, "authio_edge_upstream_duration_seconds_count");
        Assert.Contains(upstream, s => s.Contains("http_route=\"api\"") && s.Contains("http_response_status_class=\"2xx\""));
        Assert.Contains(upstream, s => s.Contains("http_route=\"public\"") && s.Contains("http_response_status_class=\"2xx\""));
        Assert.DoesNotContain(upstream, s => s.Contains("http_route=\"unmatched\"")); // nothing was forwarded

        // The documented sub-millisecond buckets (README, Admin listener): 1 µs for the stage, 100 µs for the request.
        Assert.Matches(StageBucket(), text);
        Assert.Matches(RequestBucket(), text);

        // A scraper asking for OpenMetrics (Prometheus does) gets the same families, with units, before the closing # EOF.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Accept", "application/openmetrics-text; version=1.0.0");
        using var response = await edge.Admin.SendAsync(request);
        Assert.StartsWith("application/openmetrics-text", response.Content.Headers.ContentType?.MediaType);
        var open = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("\n# EOF\n", open);
        Assert.Equal(1, open.Split('\n').Count(l => l == "# EOF"));
        Assert.Contains("# UNIT authio_edge_stage_duration_seconds seconds\n", open);
        Assert.Matches(StageBucket(), open);
        Assert.Contains("authio_edge_decisions_total", open); // the SDK's own instruments are still there
    }

    [Fact]
    public async Task Ten_thousand_distinct_unmatched_paths_add_no_label_values()
    {
        var edge = _world.Edge;
        var token = _world.Mint();
        (await edge.GetAsync("/api/x", token)).Dispose();
        (await edge.GetAsync("/nowhere/0", token)).Dispose();
        var before = await ScrapeUntilAsync(edge, t => Series(t, "authio_edge_upstream_duration_seconds_count").Count == 1);

        using var client = new HttpClient { BaseAddress = edge.Client.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await Parallel.ForAsync(1, 10_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancel) =>
        {
            using var response = await client.GetAsync($"/nowhere/{i}/p{i * 7919}", cancel);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        });

        // The exporter may answer from its short scrape cache: wait for the count to catch up.
        var after = await ScrapeUntilAsync(edge, t => t.Contains("authio_edge_decisions_total{otel_scope_name=\"Authio.Edge\",code=\"not_found\"} 10000"));
        foreach (var name in new[] { "http_server_request_duration_seconds_count", "authio_edge_stage_duration_seconds_count",
                     "authio_edge_upstream_duration_seconds_count", "authio_edge_decisions_total" })
        {
            Assert.Equal(string.Join("\n", LabelSets(before, name)), string.Join("\n", LabelSets(after, name)));
        }
        Assert.DoesNotContain("nowhere", after);
        var unmatched = Series(after, "http_server_request_duration_seconds_count").Single(s => s.Contains("http_route=\"unmatched\""));
        Assert.Equal("10000", unmatched.Split(' ')[1]); // every one counted, under the one label value
    }

    private static async Task<string> ScrapeUntilAsync(EdgeTestHost edge, Func<string, bool> ready)
    {
        var text = "";
        for (var i = 0; i < 50 && !ready(text); i++)
        {
            if (i > 0)
            {
                await Task.Delay(100);
            }
            text = await edge.Admin.GetStringAsync("/metrics");
        }
        return text;
    }

    private static List<string> Series(string text, string name) =>
        text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal)).ToList();

    /// <summary>The label sets of a series (values and the exporter's timestamps stripped).</summary>
    private static string[] LabelSets(string text, string name) =>
        Series(text, name).Select(l => l[..(l.IndexOf('}') + 1)]).Order(StringComparer.Ordinal).ToArray();

    [GeneratedRegex("authio_edge_stage_duration_seconds_bucket\\{[^}]*le=\"1E-06\"")]
    private static partial Regex StageBucket();

    [GeneratedRegex("http_server_request_duration_seconds_bucket\\{[^}]*le=\"0.0001\"")]
    private static partial Regex RequestBucket();
}

[CollectionDefinition(nameof(RouteMetricsTests), DisableParallelization = true)]
public sealed class RouteMetricsCollection;

/// <summary>A failed forward is labelled with its own code and the 5xx class; an upstream's own 503 stays <c>ok</c>.</summary>
public sealed class UpstreamMetricsTests(Pipeline.FailingUpstreamsWorld world) : IClassFixture<Pipeline.FailingUpstreamsWorld>
{
    [Fact]
    public async Task Upstream_duration_by_status_class_and_failed_forwards_by_code()
    {
        (await world.Edge.GetAsync("/deadauth/x", world.Mint())).Dispose();
        (await world.Edge.GetAsync("/ownerror/x")).Dispose();
        var lines = (await world.Edge.Admin.GetStringAsync("/metrics")).Split('\n');

        Assert.Contains(lines, l => l.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("http_route=\"deadauth\"") && l.Contains("authio_edge_decision=\"bad_gateway\"")
            && l.Contains("authio_edge_credential_type=\"jwt\""));
        Assert.Contains(lines, l => l.StartsWith("authio_edge_upstream_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("http_route=\"deadauth\"") && l.Contains("http_response_status_class=\"5xx\""));
        Assert.Contains(lines, l => l.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("http_route=\"ownerror\"") && l.Contains("authio_edge_decision=\"ok\""));
        Assert.Contains(lines, l => l.StartsWith("authio_edge_upstream_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("http_route=\"ownerror\"") && l.Contains("http_response_status_class=\"5xx\""));
    }
}
