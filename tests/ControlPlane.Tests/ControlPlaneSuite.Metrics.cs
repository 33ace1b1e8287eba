using System.Net;
using System.Text.RegularExpressions;
using Authio.ControlPlane.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    private HttpClient AdminHttp() =>
        new() { BaseAddress = new Uri(F.Services.GetRequiredService<AdminListener>().Addresses.First()) };

    /// <summary>
    /// Scrapes until <paramref name="done"/> holds (the exporter caches a scrape briefly). Several control planes share
    /// this process and the meter's name, so counts are at least, never exactly, this test's own.
    /// </summary>
    private static async Task<string> ScrapeUntilAsync(HttpClient admin, Func<string, bool> done)
    {
        var text = "";
        for (var i = 0; i < 40; i++)
        {
            text = await admin.GetStringAsync("/metrics");
            if (done(text))
            {
                return text;
            }

            await Task.Delay(100);
        }
        return text;
    }

    private static bool HasSeries(string text, string metric, string label) =>
        text.Split('\n').Any(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal));

    [SuiteFact]
    public async Task Admin_listener_serves_health_and_readiness_with_each_check_named()
    {
        using var admin = AdminHttp();
        Assert.Equal("ok", await admin.GetStringAsync("/healthz"));
        var ready = await (await admin.GetAsync("/readyz")).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("ready", (string?)ready["status"]);
        var checks = ready["checks"]!.AsArray().ToDictionary(c => (string)c!["name"]!, c => (string)c!["status"]!);
        Assert.Equal(new Dictionary<string, string> { ["database"] = "ok", ["migrations"] = "ok", ["key_ring"] = "ok" }, checks);
        // Not on the API port: operational endpoints are only where the operator put the admin listener.
        Assert.Equal(HttpStatusCode.NotFound, (await F.Http.GetAsync("/metrics")).StatusCode);
    }

    [SuiteFact]
    public async Task Metrics_count_sign_in_outcomes_and_refresh_reuse()
    {
        const string signIns = "authio_controlplane_sign_in_attempts_total";
        const string refreshes = "authio_controlplane_refresh_attempts_total";
        const string lockouts = "authio_controlplane_sign_in_lockouts_total";
        using var admin = AdminHttp();
        // Every outcome that can happen has a series from start (0 until it happens), so rate() and alerts see one.
        var before = await admin.GetStringAsync("/metrics");
        foreach (var outcome in SignInOutcomes.Recorded)
        {
            Assert.True(HasSeries(before, signIns, $"outcome=\"{outcome}\""), outcome + "\n" + before);
        }

        foreach (var outcome in RefreshOutcomes.Recorded)
        {
            Assert.True(HasSeries(before, refreshes, $"outcome=\"{outcome}\""), outcome + "\n" + before);
        }

        var (_, email) = await F.CreateUserAsync();
        await (await F.LoginAsync(email, "Wr0ng!pass")).BodyAsync(HttpStatusCode.Unauthorized);
        var tokens = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        await (await RefreshAsync(tokens.Refresh)).BodyAsync(HttpStatusCode.OK);
        await (await RefreshAsync(tokens.Refresh)).BodyAsync(HttpStatusCode.Unauthorized);
        for (var i = 0; i < 5; i++)
        {
            await F.LoginAsync(email, "Wr0ng!pass");
        }

        await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).BodyAsync((HttpStatusCode)423);

        // Counters are process-wide (other control planes of this test process add to them), so: at least this test's own.
        double Grew(string text, string metric, string? label) => (SeriesValue(text, metric, label) ?? 0) - (SeriesValue(before, metric, label) ?? 0);
        var expected = new (string Metric, string? Label, int AtLeast)[]
        {
            (signIns, "outcome=\"bad_password\"", 5), (signIns, "outcome=\"success\"", 1), (signIns, "outcome=\"locked\"", 1),
            (refreshes, "outcome=\"success\"", 1), (refreshes, "outcome=\"reused\"", 1), (lockouts, null, 1),
        };
        var text = await ScrapeUntilAsync(admin, t => expected.All(e => Grew(t, e.Metric, e.Label) >= e.AtLeast));
        foreach (var (metric, label, atLeast) in expected)
        {
            Assert.True(Grew(text, metric, label) >= atLeast, $"{metric} {label} grew by {Grew(text, metric, label)}\n{text}");
        }

        Assert.True(HasSeries(text, "authio_controlplane_password_hash_duration_seconds_count", "operation=\"verify\""), text);
        Assert.Contains("authio_controlplane_audit_writes_total", text);
    }

    [SuiteFact]
    public async Task Request_duration_is_labelled_by_route_template_and_stays_bounded_under_a_path_scan()
    {
        await (await F.LoginAsync(ControlPlaneFixture.AdminEmail, "wrong-password")).BodyAsync(HttpStatusCode.Unauthorized);
        await Parallel.ForAsync(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using var r = await F.Http.GetAsync($"/scan-{i}/x{i}", ct);
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        });
        var user = await F.AdminAsync();
        await (await F.SendAsync(HttpMethod.Get, "/v1/users/usr_doesnotexist1", user.Access)).BodyAsync(HttpStatusCode.NotFound);

        using var admin = AdminHttp();
        const string count = "http_server_request_duration_seconds_count";
        var text = await ScrapeUntilAsync(admin, t => HasSeries(t, count, "http_route=\"unmatched\"") && HasSeries(t, count, "http_route=\"/v1/users/{id}\""));
        var routes = text.Split('\n').Where(l => l.StartsWith(count + "{", StringComparison.Ordinal))
            .Select(l => Regex.Match(l, "http_route=\"([^\"]*)\"").Groups[1].Value).ToHashSet();
        Assert.True(routes.Contains("unmatched"), text);
        Assert.Contains("/v1/auth/login", routes);
        Assert.Contains("/v1/users/{id}", routes);
        Assert.DoesNotContain(routes, r => r.Contains("scan-", StringComparison.Ordinal) || r.Contains("usr_doesnotexist1", StringComparison.Ordinal));
        // Route templates only: a thousand distinct paths added one label value, not a thousand.
        Assert.InRange(routes.Count, 3, 100);
        Assert.True(HasSeries(text, count, "http_response_status_code=\"404\""), text);
    }
}
