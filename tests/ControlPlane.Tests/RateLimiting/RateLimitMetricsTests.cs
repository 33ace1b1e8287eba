using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Authio.ControlPlane.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests.RateLimiting;

/// <summary>A refusal by either half of a limit (per address, before the body is read; per account, in the service) is one <c>rate_limited</c> outcome.</summary>
public sealed class RateLimitMetricsTests(RateLimitFixture f) : IClassFixture<RateLimitFixture>
{
    private async Task<HttpResponseMessage> PostAsync(string path, object body, string address)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Forwarded-For", address);
        return await f.Http.SendAsync(request);
    }

    private static double Value(string text, string metric, string label) =>
        text.Split('\n').Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture)).FirstOrDefault();

    [Fact]
    public async Task Sign_ins_and_refreshes_refused_per_address_or_per_account_count_as_rate_limited()
    {
        const string signIns = "authio_controlplane_sign_in_attempts_total";
        const string refreshes = "authio_controlplane_refresh_attempts_total";
        const string limited = "outcome=\"rate_limited\"";
        using var admin = new HttpClient { BaseAddress = new Uri(f.Services.GetRequiredService<AdminListener>().Addresses.First()) };
        var before = await admin.GetStringAsync("/metrics");
        f.Time.Advance(TimeSpan.FromHours(1));

        // Per address (5/1m): the sixth sign-in from one address, each for another email, is refused before the body is read.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var r = await PostAsync("/v1/auth/login", new { email = $"m{Guid.NewGuid():N}@acme.test", password = "Wr0ng!pass" }, "10.250.0.1");
            statuses.Add(r.StatusCode);
        }
        // Per account (3/1m): the fourth for one email, each from another address.
        var email = $"m{Guid.NewGuid():N}@acme.test";
        for (var i = 0; i < 4; i++)
        {
            using var r = await PostAsync("/v1/auth/login", new { email, password = "Wr0ng!pass" }, $"10.250.1.{i + 1}");
            statuses.Add(r.StatusCode);
        }
        // Refresh per address (5/1m).
        for (var i = 0; i < 6; i++)
        {
            using var r = await PostAsync("/v1/auth/refresh", new { refresh_token = $"org_x.{Guid.NewGuid():N}" }, "10.250.2.1");
            statuses.Add(r.StatusCode);
        }
        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.TooManyRequests));

        string text = "";
        for (var i = 0; i < 40; i++)
        {
            text = await admin.GetStringAsync("/metrics");
            if (Value(text, signIns, limited) - Value(before, signIns, limited) >= 2 && Value(text, refreshes, limited) - Value(before, refreshes, limited) >= 1)
            {
                break;
            }

            await Task.Delay(100);
        }
        // At least this test's own: other control planes of the test process count into the same process-wide counters.
        Assert.True(Value(text, signIns, limited) - Value(before, signIns, limited) >= 2, text);
        Assert.True(Value(text, refreshes, limited) - Value(before, refreshes, limited) >= 1, text);
    }
}
