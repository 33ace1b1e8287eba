using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Authio.EdgeProxy.Fleet;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Fleet;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.EndToEnd;

/// <summary>
/// Fleet status end to end: a real edge (on the real clock, reporting every 0.5 s) in front of an upstream reports to a
/// real control plane, and an operator sees it in <c>GET /v1/edges</c> with its feed lag, key-set age and per-route
/// p99; a tenant org's mod does not; an edge that stops reporting turns stale.
/// </summary>
public sealed class FleetEndToEndTests : IAsyncLifetime
{
    // A bound on waiting, not a timing claim: the loop ends as soon as the report is listed (20 s was once not enough
    // for the start-up and first reports on a busy 2-core machine).
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly RecordingUpstream _upstream = new();
    private RealControlPlane _cp = null!;
    private EdgeTestHost? _edge;
    private readonly Stopwatch _sinceStart = new();

    public async Task InitializeAsync()
    {
        _sinceStart.Start();
        _cp = await RealControlPlane.StartAsync();
        var admin = await _cp.AccessTokenAsync();
        var edgeKey = (await _cp.CreateApiKeyAsync(admin, "edge", ["edge:sync"])).GetProperty("key").GetString()!;
        await _upstream.StartAsync();
        var config = EdgeTestHost.ControlPlaneOnlyConfig(_upstream.Url, _cp.Url, edgeKey);
        config["Edge:Fleet:ReportInterval"] = "00:00:00.5";
        config["Edge:Fleet:EdgeId"] = "edge-e2e-1";
        config["Edge:ControlPlane:LongPollSeconds"] = "1";
        // The real clock: the report timer and the control plane's staleness both run on wall time here.
        _edge = await EdgeTestHost.StartAsync(config, builder => builder.Services.AddSingleton(TimeProvider.System));
        await _edge.WaitForSnapshotAsync();
    }

    public async Task DisposeAsync()
    {
        if (_edge is not null)
        {
            await _edge.DisposeAsync();
        }
        await _upstream.DisposeAsync();
        await _cp.DisposeAsync();
    }

    [Fact]
    public void The_default_report_interval_is_ten_seconds_like_the_usage_reports()
    {
        Assert.Equal(TimeSpan.FromSeconds(10), new FleetOptions().ReportInterval);
        Assert.Equal(new Configuration.EdgeOptions().ApiKeys.UsageReportInterval, new Configuration.EdgeOptions().Fleet.ReportInterval);
    }

    [Fact]
    public async Task An_operator_sees_the_edge_with_lag_key_age_and_route_latency_and_it_goes_stale_when_silent()
    {
        var admin = await _cp.AccessTokenAsync();
        for (var i = 0; i < 20; i++)
        {
            using var open = await _edge!.GetAsync("/public/status");
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
            using var guarded = await _edge.GetAsync("/api/things", admin);
            Assert.Equal(HttpStatusCode.OK, guarded.StatusCode);
        }

        // Each report carries the interval since the last delivered one and replaces it in the listing: a route quiet
        // for one interval shows no latency. Traffic keeps flowing while polling so a slow poll cannot miss the window.
        JsonElement edge = default;
        var sent = 20;
        while (_sinceStart.Elapsed < Deadline)
        {
            using (var more = await _edge!.GetAsync("/api/things", admin))
            {
                Assert.Equal(HttpStatusCode.OK, more.StatusCode);
            }
            using (var open = await _edge.GetAsync("/public/status"))
            {
                Assert.Equal(HttpStatusCode.OK, open.StatusCode);
            }
            sent++;
            var fleet = await FleetAsync(admin);
            var found = fleet.GetProperty("edges").EnumerateArray().Where(e => e.GetProperty("id").GetString() == "edge-e2e-1").ToList();
            if (found.Count == 1 && Route(found[0], "api") is { } r && r.GetProperty("p99_ms").GetDouble() > 0 && Route(found[0], "public") is not null
                && found[0].GetProperty("feed_lag_seconds").ValueKind == JsonValueKind.Number)
            {
                edge = found[0];
                Assert.True(fleet.GetProperty("head_sequence").GetInt64() > 0);
                Assert.Equal(0.5, fleet.GetProperty("report_interval_seconds").GetDouble());
                break;
            }
            await Task.Delay(100);
        }
        Assert.True(edge.ValueKind == JsonValueKind.Object, $"GET /v1/edges did not list the edge with route latency within {Deadline.TotalSeconds} s of start");
        Assert.False(edge.GetProperty("stale").GetBoolean());
        Assert.Equal("http", edge.GetProperty("feed_transport").GetString());
        Assert.True(edge.GetProperty("key_set_age_seconds").GetDouble() >= 0);
        Assert.True(edge.GetProperty("feed_sequence").GetInt64() > 0);
        Assert.False(string.IsNullOrEmpty(edge.GetProperty("version").GetString()));
        var api = Route(edge, "api")!.Value;
        Assert.True(api.GetProperty("requests").GetInt64() > 0 && api.GetProperty("requests").GetInt64() <= sent);
        Assert.True(api.GetProperty("p50_ms").GetDouble() <= api.GetProperty("p99_ms").GetDouble());

        // The control plane's gauges carry the edge too. They are process-wide (one control plane per process in
        // production): another test's control plane in this process may have sampled its own fleet last, so list the
        // fleet (which samples it) and scrape right after, a bounded number of times.
        string[] expected =
        [
            """authio_controlplane_edges\{[^}]*state="online"\} 1""",
            """authio_controlplane_edge_feed_position\{[^}]*edge_id="edge-e2e-1"\} [1-9]""",
            """authio_controlplane_edge_feed_lag_seconds\{[^}]*edge_id="edge-e2e-1"\} """,
        ];
        var metrics = "";
        for (var attempt = 0; attempt < 50; attempt++)
        {
            await FleetAsync(admin);
            metrics = await ControlPlaneMetricsAsync();
            if (expected.All(pattern => System.Text.RegularExpressions.Regex.IsMatch(metrics, pattern)))
            {
                break;
            }
            await Task.Delay(100);
        }
        foreach (var pattern in expected)
        {
            Assert.Matches(pattern, metrics);
        }

        // A mod of a tenant org is no operator.
        using (var created = await _cp.SendAsync(HttpMethod.Post, "/v1/orgs", admin, new { name = "Tenant" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var tenantId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
            var tenantMod = (await _cp.LoginAsync(orgId: tenantId)).GetProperty("access_token").GetString()!;
            using var refused = await _cp.SendAsync(HttpMethod.Get, FleetPaths.Edges, tenantMod);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("forbidden", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        // The edge stops: after 3 silent intervals it is stale (and after 10 it would be gone).
        await _edge!.DisposeAsync();
        _edge = null;
        var silent = Stopwatch.StartNew();
        var stale = false;
        while (!stale && silent.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100);
            var listed = (await FleetAsync(admin)).GetProperty("edges").EnumerateArray().FirstOrDefault(e => e.GetProperty("id").GetString() == "edge-e2e-1");
            stale = listed.ValueKind == JsonValueKind.Object && listed.GetProperty("stale").GetBoolean();
        }
        Assert.True(stale, "the silent edge was never marked stale");
    }

    private static JsonElement? Route(JsonElement edge, string id) =>
        edge.GetProperty("routes").EnumerateArray().Where(r => r.GetProperty("route").GetString() == id).Select(r => (JsonElement?)r).FirstOrDefault();

    private async Task<JsonElement> FleetAsync(string token)
    {
        using var response = await _cp.SendAsync(HttpMethod.Get, FleetPaths.Edges, token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<string> ControlPlaneMetricsAsync()
    {
        var listener = _cp.Services.GetRequiredService<Authio.ControlPlane.Diagnostics.AdminListener>();
        using var http = new HttpClient { BaseAddress = new Uri(listener.Addresses.First()) };
        return await http.GetStringAsync("/metrics");
    }
}
