using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

/// <summary>The sampled session gauge, database pool use and label bounds of the control plane's /metrics.</summary>
public abstract partial class ControlPlaneSuite
{
    private const string SessionsActive = "authio_controlplane_sessions_active";
    private const string DbConnections = "authio_controlplane_db_connections";
    private const string DbWait = "authio_controlplane_db_connection_wait_seconds";

    /// <summary>The value of an unlabelled series, or of the series whose labels contain <paramref name="label"/>.</summary>
    private static double? SeriesValue(string text, string metric, string? label = null)
    {
        foreach (var line in text.Split('\n'))
        {
            var plain = label is null && line.StartsWith(metric + " ", StringComparison.Ordinal);
            var labelled = line.StartsWith(metric + "{", StringComparison.Ordinal) && (label is null || line.Contains(label, StringComparison.Ordinal));
            if (plain || labelled)
            {
                var value = line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0];
                return double.Parse(value, CultureInfo.InvariantCulture);
            }
        }
        return null;
    }

    /// <summary>Samples this control plane's live sessions (as the 15 s sampler does) and returns what it counted.</summary>
    private async Task<long> SampleSessionsAsync()
    {
        await F.Services.GetRequiredService<MetricsSampler>().SampleAsync(CancellationToken.None);
        var sampled = F.Services.GetRequiredService<ControlPlaneMetrics>().SessionsActive;
        var counted = await F.Services.GetRequiredService<LiveSessionStore>().CountAsync(F.Time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None);
        Assert.Equal(counted, sampled);
        return sampled;
    }

    /// <summary>
    /// The scrape shows the sampled number. Other control planes in this test process add their own samples to the
    /// process-wide gauge and may sample in between, so a few rounds are allowed for one where nothing moved.
    /// </summary>
    private static async Task AssertScrapedSessionsAsync(HttpClient admin)
    {
        string text = "";
        for (var round = 0; round < 5; round++)
        {
            var expected = ControlPlaneMetrics.SessionsActiveTotal();
            text = await ScrapeUntilAsync(admin, t => SeriesValue(t, SessionsActive) == expected);
            if (SeriesValue(text, SessionsActive) == expected && ControlPlaneMetrics.SessionsActiveTotal() == expected)
            {
                return;
            }
        }
        Assert.Fail("sessions_active never showed the sampled total:\n" + text);
    }

    [SuiteFact]
    public async Task Sessions_active_counts_usable_sessions_of_every_org_and_drops_when_one_ends()
    {
        var admin = await F.AdminAsync();
        var (_, email) = await F.CreateUserAsync("mod", admin);
        var founder = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var orgA = (string)(await (await F.SendAsync(HttpMethod.Get, "/v1/org", founder.Access)).BodyAsync(HttpStatusCode.OK))["id"]!;
        var orgB = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", founder.Access, new { name = "Metrics" })).BodyAsync(HttpStatusCode.Created))["id"]!;
        using var scraper = AdminHttp();

        var before = await SampleSessionsAsync();
        Assert.True(before >= 2, $"the admin's and the founder's sessions are live, counted {before}");
        // One session in each org: the count crosses orgs (on PostgreSQL the service role alone sees one org's rows).
        var inB = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgB);
        var inA = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgA);
        Assert.Equal(before + 2, await SampleSessionsAsync());
        await AssertScrapedSessionsAsync(scraper);

        await (await F.SendAsync(HttpMethod.Post, "/v1/auth/logout", inB.Access)).BodyAsync(HttpStatusCode.NoContent);
        Assert.Equal(before + 1, await SampleSessionsAsync());
        await AssertScrapedSessionsAsync(scraper);

        // Refresh-token reuse ends the session too.
        await (await RefreshAsync(inA.Refresh)).BodyAsync(HttpStatusCode.OK);
        await (await RefreshAsync(inA.Refresh)).BodyAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(before, await SampleSessionsAsync());

        // A session nobody refreshes is never ended in the table, but past its idle timeout (default 1 h) and its access
        // token's expiry it can no longer be used: it stops counting.
        // (Other tests may have given the admin's org a longer idle timeout; the new org has the default.)
        var lingering = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgB);
        var withLingering = await SampleSessionsAsync();
        Assert.Equal(before + 1, withLingering);
        F.Time.Advance(TimeSpan.FromHours(2));
        var later = await SampleSessionsAsync();
        Assert.True(later <= withLingering - 1, $"{withLingering} before, {later} two idle hours later");
        await (await RefreshAsync(lingering.Refresh)).BodyAsync(HttpStatusCode.Unauthorized);
        await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgB);
        Assert.Equal(later + 1, await SampleSessionsAsync());
        await AssertScrapedSessionsAsync(scraper);
    }

    [SuiteFact]
    public async Task Metrics_show_database_connections_in_use_and_idle_and_how_long_getting_one_took()
    {
        var admin = await F.AdminAsync();
        using var scraper = AdminHttp();
        var db = F.Services.GetRequiredService<Db>();
        string text;
        // Held open here: at least one connection is in use while the scrape runs.
        await using (await db.OpenAsync(admin: false, CancellationToken.None))
        {
            text = await ScrapeUntilAsync(scraper, t => SeriesValue(t, DbConnections, "state=\"used\"") >= 1);
            Assert.True(SeriesValue(text, DbConnections, "state=\"used\"") >= 1, text);
        }

        // Once the requests are done their connections go back to the pool: idle. (Other tests in this process may clear
        // the pools at any moment, so each round makes a request first.)
        for (var round = 0; round < 40 && !(SeriesValue(text, DbConnections, "state=\"idle\"") >= 1); round++)
        {
            await (await F.SendAsync(HttpMethod.Get, "/v1/users", admin.Access)).BodyAsync(HttpStatusCode.OK);
            text = await scraper.GetStringAsync("/metrics");
            await Task.Delay(100);
        }
        Assert.True(SeriesValue(text, DbConnections, "state=\"idle\"") >= 1, text);
        var states = text.Split('\n').Where(l => l.StartsWith(DbConnections + "{", StringComparison.Ordinal))
            .Select(l => Regex.Match(l, "state=\"([^\"]*)\"").Groups[1].Value).ToHashSet();
        Assert.Equal(new[] { "idle", "used" }, states.Order());
        Assert.True(SeriesValue(text, DbWait + "_count") >= 1, text);
        // Sub-millisecond buckets: a pooled checkout is far below the HTTP buckets' 5 ms floor.
        Assert.True(SeriesValue(text, DbWait + "_bucket", "le=\"0.0001\"") is not null, text);
        Assert.True(SeriesValue(text, DbWait + "_bucket", "le=\"+Inf\"") >= 1, text);
    }

    [SuiteFact]
    public async Task Control_plane_metric_labels_stay_bounded_under_distinct_paths_tokens_and_emails()
    {
        var marker = Guid.NewGuid().ToString("N")[..10];
        await Parallel.ForAsync(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using var path = await F.Http.GetAsync($"/b{marker}-{i}/v1/users/{i}", ct);
            Assert.Equal(HttpStatusCode.NotFound, path.StatusCode);
            using var refresh = await F.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = $"org_{marker}{i}.{Guid.NewGuid():N}" }, ct);
            Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
            if (i % 10 == 0)
            {
                using var login = await F.LoginAsync($"b{marker}{i}@nowhere.test", "Wrong!passw0rd");
                Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
            }
        });
        using var scraper = AdminHttp();
        var text = await ScrapeUntilAsync(scraper, t => SeriesValue(t, "authio_controlplane_refresh_attempts_total", "outcome=\"invalid\"") >= 1000);
        Assert.DoesNotContain(marker, text, StringComparison.Ordinal);

        // Every label of every control-plane series takes a value from a fixed set.
        string[] outcomes = [.. SignInOutcomes.Recorded, SignInOutcomes.MfaRequired, .. RefreshOutcomes.Recorded, .. WebhookOutcomes.Recorded];
        var allowed = new Dictionary<string, string[]>
        {
            ["outcome"] = outcomes,
            ["state"] = ["used", "idle", "online", "stale"], // db connections; fleet edges
            ["edge_id"] = [], // bounded by the fleet (edges that report), never by requests: none report here
            ["operation"] = ["hash", "verify"],
            ["trigger"] = ["manual", "scheduled"],
            ["le"] = [],
            ["otel_scope_name"] = [ControlPlaneMetrics.MeterName],
            ["otel_scope_version"] = [],
        };
        var series = text.Split('\n').Where(l => l.StartsWith("authio_controlplane_", StringComparison.Ordinal)).ToList();
        foreach (var line in series)
        {
            foreach (Match label in Regex.Matches(line, "([a-z_]+)=\"([^\"]*)\""))
            {
                var (name, value) = (label.Groups[1].Value, label.Groups[2].Value);
                Assert.True(allowed.TryGetValue(name, out var values), $"unexpected label {name} in {line}");
                Assert.True(values.Length == 0 || values.Contains(value), $"unexpected {name}=\"{value}\" in {line}");
            }
        }
        // A few dozen series, whatever was sent: bucket lines are bounded by the fixed bucket lists.
        Assert.InRange(series.Count, 10, 400);
        Assert.True(SeriesValue(text, "authio_controlplane_sign_in_attempts_total", "outcome=\"unknown_user\"") >= 100, text);
    }
}
