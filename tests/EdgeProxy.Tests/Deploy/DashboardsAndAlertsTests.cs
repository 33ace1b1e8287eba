using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Authio.ControlPlane.Diagnostics;
using Authio.EdgeProxy.Fleet;
using Authio.EdgeProxy.Tests.EndToEnd;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.Deploy;

/// <summary>
/// The committed Grafana dashboards and Prometheus alert rules against a real Prometheus scraping a real control plane
/// and edge (this project already runs both in-process, on loopback) every second: after a short load that exercises
/// every outcome the panels chart, every panel query, every template variable and every alert expression (its
/// threshold removed) must return data. A panel that charts nothing, or an alert that can never fire because its
/// series does not exist, fails here and names the query and the metrics missing from the scrapes.
/// Runs alone: the scrapes have a 1 s timeout, which a machine busy with the other suites' hosts can miss.
/// </summary>
[Collection(nameof(DashboardsAndAlertsTests))]
public sealed partial class DashboardsAndAlertsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(40);

    [PrometheusFact]
    public async Task Every_dashboard_panel_and_alert_rule_returns_data_from_a_real_prometheus()
    {
        await using var world = await World.StartAsync();
        await using var prometheus = await PrometheusProcess.StartAsync(world.PrometheusConfig());
        await world.DriveLoadAsync();

        var rules = await prometheus.RulesAsync();
        Assert.True(rules.Count > 0, "Prometheus loaded no alert rules from deploy/prometheus:\n" + prometheus.Output);
        var problems = new List<string>();
        var queries = DeployedQueries.Dashboards();
        foreach (var rule in rules)
        {
            if (rule.Health == "err")
            {
                problems.Add($"rule {rule.Name}: Prometheus reports {rule.LastError}");
            }
            var underlying = DeployedQueries.WithoutThreshold(rule.Query);
            if (underlying is null)
            {
                problems.Add($"rule {rule.Name}: does not end in a top-level comparison with a number: {rule.Query}");
                continue;
            }
            queries.Add(new DeployedQuery($"alert {rule.Group}/{rule.Name} (threshold removed)", underlying));
        }
        Assert.True(queries.Count(q => q.Source.Contains(" panel ", StringComparison.Ordinal)) >= 20, "fewer panel queries than the dashboards hold");

        // Counters appear with their first event and the fleet reports every 10 s: poll (bounded) until all answer.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var clock = Stopwatch.StartNew();
        List<(DeployedQuery Query, string Why)> empty;
        do
        {
            empty = [];
            foreach (var query in queries)
            {
                var (series, error) = await prometheus.QueryAsync(query.Expression);
                if (error is not null || series == 0)
                {
                    empty.Add((query, error ?? "no data"));
                }
            }
            if (empty.Count == 0)
            {
                break;
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        while (clock.Elapsed < Patience);

        await world.ScreenshotIfAskedAsync(prometheus);
        if (empty.Count > 0 || problems.Count > 0)
        {
            var scraped = await ScrapedNamesAsync(prometheus);
            var report = new StringBuilder();
            report.AppendLine($"{empty.Count} of {queries.Count} dashboard/alert queries returned nothing after {Patience.TotalSeconds:0} s of 1 s scrapes:");
            foreach (var (query, why) in empty)
            {
                var missing = MetricNames(query.Expression).Where(n => !scraped.Contains(n)).ToArray();
                report.AppendLine($"- {query.Source}: {why}{(missing.Length > 0 ? "; not scraped: " + string.Join(", ", missing) : "")}");
                report.AppendLine($"    {query.Expression}");
            }
            var absent = empty.SelectMany(e => MetricNames(e.Query.Expression)).Where(n => !scraped.Contains(n)).Distinct().Order(StringComparer.Ordinal).ToArray();
            if (absent.Length > 0)
            {
                report.AppendLine("Metrics no target exports: " + string.Join(", ", absent));
            }
            problems.ForEach(p => report.AppendLine(p));
            report.AppendLine("Targets: " + await TargetsAsync(prometheus));
            Assert.Fail(report.ToString());
        }
    }

    [Fact]
    public void Alert_thresholds_are_removed_only_at_the_top_level()
    {
        Assert.Equal("up{job=\"authio-edge\"}", DeployedQueries.WithoutThreshold("up{job=\"authio-edge\"} == 0"));
        Assert.Equal("1 - (a / b)", DeployedQueries.WithoutThreshold("1 - (a / b) > 0.5"));
        Assert.Equal("histogram_quantile(0.99, x)", DeployedQueries.WithoutThreshold("histogram_quantile(0.99, x) > 2.5e-3"));
        Assert.Null(DeployedQueries.WithoutThreshold("sum(rate(x[5m]) > 0)"));
        Assert.Null(DeployedQueries.WithoutThreshold("rate(x[5m])"));
        Assert.Equal("x{a=\"(\"}", DeployedQueries.WithoutThreshold("x{a=\"(\"} > 1"));
        Assert.Null(DeployedQueries.WithoutThreshold("(x > 1"));
    }

    [Fact]
    public void Dashboard_variables_are_substituted_and_every_panel_has_a_query()
    {
        var queries = DeployedQueries.Dashboards();
        Assert.NotEmpty(DeployedQueries.DashboardFiles());
        Assert.All(queries, q => Assert.DoesNotContain("$", q.Expression, StringComparison.Ordinal));
        Assert.Equal("rate(x{instance=~\".*\"}[1m])", DeployedQueries.Substitute("rate(x{instance=~\"${instance}\"}[$__rate_interval])",
            new Dictionary<string, string> { ["instance"] = ".*", ["__rate_interval"] = "1m" }));
        foreach (var file in DeployedQueries.DashboardFiles())
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var panel in json.RootElement.GetProperty("panels").EnumerateArray().Where(p => p.GetProperty("type").GetString() != "row"))
            {
                Assert.True(panel.TryGetProperty("targets", out var targets) && targets.GetArrayLength() > 0,
                    $"{Path.GetFileName(file)}: panel \"{panel.GetProperty("title").GetString()}\" has no query");
            }
        }
    }

    /// <summary>Each scrape target's job, health and last error, for failure messages.</summary>
    private static async Task<string> TargetsAsync(PrometheusProcess prometheus)
    {
        using var json = JsonDocument.Parse(await prometheus.Http.GetStringAsync("/api/v1/targets"));
        return string.Join("; ", json.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray().Select(t =>
            $"{t.GetProperty("labels").GetProperty("job").GetString()} {t.GetProperty("health").GetString()} {t.GetProperty("lastError").GetString()}".TrimEnd()));
    }

    private static async Task<HashSet<string>> ScrapedNamesAsync(PrometheusProcess prometheus)
    {
        using var json = JsonDocument.Parse(await prometheus.Http.GetStringAsync("/api/v1/label/__name__/values"));
        return json.RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The metric names an expression selects (identifiers followed by a selector or range).</summary>
    private static IEnumerable<string> MetricNames(string expression) =>
        SelectorName().Matches(expression).Select(m => m.Groups["name"].Value)
            .Where(n => n is not ("by" or "without" or "on" or "ignoring" or "sum" or "max" or "min" or "rate" or "increase" or "count" or "histogram_quantile"))
            .Distinct();

    [GeneratedRegex(@"(?<![\w""])(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\s*[\{\[]")]
    private static partial Regex SelectorName();

    /// <summary>A control plane, an upstream, a JWKS issuer and an edge trusting both, with routes for every outcome.</summary>
    private sealed class World : IAsyncDisposable
    {
        private readonly TestKey _jwksKey = TestKey.Rs256("dash-rs");
        private RealControlPlane _cp = null!;
        private EdgeTestHost _edge = null!;
        private readonly RecordingUpstream _upstream = new();
        private readonly JwksServer _jwks = new();
        private string _token = "";

        public static async Task<World> StartAsync()
        {
            var world = new World();
            world._cp = await RealControlPlane.StartAsync();
            var admin = await world._cp.AccessTokenAsync();
            var edgeKey = (await world._cp.CreateApiKeyAsync(admin, "edge", ["edge:sync"])).GetProperty("key").GetString()!;
            await world._upstream.StartAsync();
            await world._jwks.StartAsync();
            world._jwks.Publish(world._jwksKey);
            var config = EdgeTestHost.ControlPlaneOnlyConfig(world._upstream.Url, world._cp.Url, edgeKey);
            // A second, JWKS-fetched issuer: JWKS refreshes and RS256 verifications next to the control plane's ES256.
            config["Edge:Issuers:0:Issuer"] = Jwt.Issuer;
            config["Edge:Issuers:0:Audiences:0"] = Jwt.Audience;
            config["Edge:Issuers:0:JwksUri"] = world._jwks.JwksUrl;
            config["ReverseProxy:Routes:limited:ClusterId"] = "up";
            config["ReverseProxy:Routes:limited:Match:Path"] = "/limited/{**rest}";
            config["ReverseProxy:Routes:limited:Metadata:Authio.RateLimit"] = "2/1m per credential";
            // Nothing listens on port 1: every forward fails (YARP's 502/503).
            config["ReverseProxy:Routes:dead:ClusterId"] = "dead";
            config["ReverseProxy:Routes:dead:Match:Path"] = "/dead/{**rest}";
            config["ReverseProxy:Clusters:dead:Destinations:d1:Address"] = "http://127.0.0.1:1/";
            config["Edge:FailureBudget:Burst"] = "3";
            world._edge = await EdgeTestHost.StartAsync(config);
            await world._edge.WaitForSnapshotAsync();
            return world;
        }

        /// <summary>The committed scrape config, pointed at this world's admin listeners, scraping and evaluating every second.</summary>
        public string PrometheusConfig()
        {
            var root = DeployedQueries.RepoRoot();
            var cpAdmin = new Uri(_cp.Services.GetRequiredService<AdminListener>().Addresses.First()).Authority;
            var text = File.ReadAllText(Path.Combine(root, "deploy", "prometheus", "prometheus.yml"));
            Assert.Contains("127.0.0.1:9901", text, StringComparison.Ordinal);
            Assert.Contains("127.0.0.1:9902", text, StringComparison.Ordinal);
            return text
                .Replace("127.0.0.1:9901", _edge.Admin.BaseAddress!.Authority, StringComparison.Ordinal)
                .Replace("127.0.0.1:9902", cpAdmin, StringComparison.Ordinal)
                .Replace("scrape_interval: 15s", "scrape_interval: 1s", StringComparison.Ordinal)
                .Replace("evaluation_interval: 15s", "evaluation_interval: 1s", StringComparison.Ordinal)
                .Replace("- authio-alerts.yml", "- " + Path.Combine(root, "deploy", "prometheus", "authio-alerts.yml"), StringComparison.Ordinal);
        }

        /// <summary>A short, bounded load: a few requests of every outcome the dashboards chart.</summary>
        public async Task DriveLoadAsync()
        {
            var now = _edge.Time.GetUtcNow();
            var session = await _cp.LoginAsync();
            var token = _token = session.GetProperty("access_token").GetString()!;
            var rsToken = Jwt.Mint(_jwksKey, now, scope: "read:things");
            var expired = Jwt.Sign(_jwksKey, Jwt.Header(_jwksKey), Jwt.Claims(now.AddHours(-2), exp: now.AddHours(-1).ToUnixTimeSeconds()));
            var apiKey = (await _cp.CreateApiKeyAsync(token, "reader", ["read:applications"])).GetProperty("key").GetString()!;

            for (var i = 0; i < 20; i++)
            {
                await ExpectAsync("/api/x", token, HttpStatusCode.OK);
            }
            for (var i = 0; i < 5; i++)
            {
                await ExpectAsync("/api/x", rsToken, HttpStatusCode.OK);
                await ExpectAsync("/api/x", apiKey, HttpStatusCode.OK);
                await ExpectAsync("/public/x", null, HttpStatusCode.OK);
            }
            for (var i = 0; i < 3; i++)
            {
                await ExpectAsync("/api/x", null, HttpStatusCode.Unauthorized);
                await ExpectAsync("/api/x", expired, HttpStatusCode.Unauthorized);
                await ExpectAsync("/orgs/org_other/x", token, HttpStatusCode.Forbidden);
                await ExpectAsync("/scoped/x", rsToken, HttpStatusCode.Forbidden);
                await ExpectAsync("/nowhere", token, HttpStatusCode.NotFound);
            }
            for (var i = 0; i < 2; i++)
            {
                // A made-up key fails its checksum; two stay inside the API-key budget (burst 3 here).
                await ExpectAsync("/api/x", "sk_live_" + new string('A', 46), HttpStatusCode.Unauthorized);
                using var dead = await _edge.GetAsync("/dead/x", token);
                Assert.True((int)dead.StatusCode is 502 or 503 or 504, $"dead route answered {(int)dead.StatusCode}");
            }
            for (var i = 0; i < 4; i++)
            {
                await ExpectAsync("/limited/x", token, i < 2 ? HttpStatusCode.OK : HttpStatusCode.TooManyRequests);
            }

            // Control plane: failed sign-ins up to a lockout, a refresh-token reuse, a manual key rotation.
            for (var i = 0; i < 6; i++)
            {
                using var failed = await _cp.Http.PostAsJsonAsync("/v1/auth/login", new { email = "nobody@acme.test", password = "wrong-password" });
                Assert.True(failed.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Locked, $"failed sign-in answered {(int)failed.StatusCode}");
            }
            var refresh = (await _cp.LoginAsync()).GetProperty("refresh_token").GetString()!;
            using (var first = await _cp.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = refresh }))
            {
                Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            }
            using (var reused = await _cp.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = refresh }))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, reused.StatusCode);
            }
            using (var rotated = await _cp.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", token))
            {
                Assert.True(rotated.IsSuccessStatusCode, await rotated.Content.ReadAsStringAsync());
            }

            // Revocation: a signed-out session's token is refused at the edge once the feed brings the change.
            var revoked = await _cp.AccessTokenAsync();
            await ExpectAsync("/api/x", revoked, HttpStatusCode.OK);
            using (var logout = await _cp.SendAsync(HttpMethod.Post, "/v1/auth/logout", revoked))
            {
                Assert.True(logout.IsSuccessStatusCode);
            }
            var clock = Stopwatch.StartNew();
            var refusedAtEdge = false;
            while (!refusedAtEdge && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                using var response = await _edge.GetAsync("/api/x", revoked);
                refusedAtEdge = response.StatusCode == HttpStatusCode.Unauthorized;
                await Task.Delay(refusedAtEdge ? 0 : 50);
            }
            Assert.True(refusedAtEdge, "the edge still accepted a signed-out session's token after 10 s");
            await ExpectAsync("/api/x", revoked, HttpStatusCode.Unauthorized);

            // Last, as it shuts this address out of signature checks: forged signatures until the failure budget refuses.
            var parts = token.Split('.');
            var signature = parts[2].ToCharArray();
            signature[10] = signature[10] == 'A' ? 'B' : 'A';
            var forged = $"{parts[0]}.{parts[1]}.{new string(signature)}";
            var budgetRefused = false;
            for (var i = 0; i < 6; i++)
            {
                using var response = await _edge.GetAsync("/api/x", forged);
                Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, $"forged token answered {(int)response.StatusCode}");
                budgetRefused |= response.StatusCode == HttpStatusCode.TooManyRequests;
            }
            Assert.True(budgetRefused, "the failure budget never refused forged signatures");

            // Fleet status: the edge's clock is the test's, so its report is sent here rather than on its 10 s timer;
            // listing the fleet refreshes the control plane's per-edge gauges.
            await _edge.Services.GetRequiredService<FleetReporter>().ReportAsync(CancellationToken.None);
            using (var fleet = await _cp.SendAsync(HttpMethod.Get, "/v1/edges", token))
            {
                Assert.Equal(HttpStatusCode.OK, fleet.StatusCode);
            }
        }

        /// <summary>
        /// With AUTHIO_DEPLOY_SCREENSHOT=path.png and chromium installed, saves Prometheus' graph of the per-route p99
        /// (how README's chart is made); never in CI runs.
        /// </summary>
        public async Task ScreenshotIfAskedAsync(PrometheusProcess prometheus)
        {
            var target = Environment.GetEnvironmentVariable("AUTHIO_DEPLOY_SCREENSHOT");
            if (string.IsNullOrEmpty(target) || !File.Exists("/usr/bin/chromium"))
            {
                return;
            }
            // Traffic while Prometheus watches and while the page renders, so the graph has a shape (bounded: 20 s + chromium's 60 s).
            var token = _token;
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var load = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    using var ok = await _edge.GetAsync("/api/x", token);
                    using var pub = await _edge.GetAsync("/public/x");
                    using var refused = await _edge.GetAsync("/api/x");
                    await Task.Delay(2);
                }
            });
            await Task.Delay(TimeSpan.FromSeconds(20));
            const string expr = "histogram_quantile(0.99, sum by (http_route, le) (rate(http_server_request_duration_seconds_bucket{job=\"authio-edge\"}[5s])))";
            var url = $"{prometheus.Http.BaseAddress}graph?g0.expr={Uri.EscapeDataString(expr)}&g0.tab=0&g0.range_input=30s&g0.stacked=0&g0.show_exemplars=0";
            var start = new ProcessStartInfo("/usr/bin/chromium") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var argument in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", $"--screenshot={Path.GetFullPath(target)}", "--window-size=1200,1000", "--virtual-time-budget=10000", url })
            {
                start.ArgumentList.Add(argument);
            }
            using var chromium = Process.Start(start)!;
            await chromium.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await stop.CancelAsync();
            await load;
        }

        private async Task ExpectAsync(string path, string? credential, HttpStatusCode expected)
        {
            using var response = await _edge.GetAsync(path, credential);
            Assert.True(response.StatusCode == expected, $"GET {path}: expected {(int)expected}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        public async ValueTask DisposeAsync()
        {
            await _edge.DisposeAsync();
            await _upstream.DisposeAsync();
            await _jwks.DisposeAsync();
            await _cp.DisposeAsync();
        }
    }
}

[CollectionDefinition(nameof(DashboardsAndAlertsTests), DisableParallelization = true)]
public sealed class DashboardsAndAlertsCollection;
