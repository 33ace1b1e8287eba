using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// Suspicious sign-ins end up in the org's audit log as <c>suspicious_sign_in</c>: a sign-in from a new network and a new
/// device (each alone is normal), and password spraying from one address (one alert, not one per account). Clients come
/// from different loopback addresses (127.x.y.z), which the server sees as their networks.
/// </summary>
public abstract partial class ControlPlaneSuite
{
    /// <summary>A client whose connections leave from <paramref name="localAddress"/> (any 127.0.0.0/8 address works on Linux).</summary>
    private HttpClient ClientFrom(string localAddress, string userAgent, Uri? baseAddress = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var http = new HttpClient(handler) { BaseAddress = baseAddress ?? F.Http.BaseAddress };
        http.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
        return http;
    }

    private async Task<HttpStatusCode> SignInFromAsync(string localAddress, string userAgent, string email, string password, Uri? instance = null)
    {
        using var http = ClientFrom(localAddress, userAgent, instance);
        using var response = await http.PostAsJsonAsync("/v1/auth/login", new { email, password });
        return response.StatusCode;
    }

    private async Task<List<JsonNode>> SuspiciousAsync(Tokens admin, string query) =>
        (await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?event=suspicious_sign_in&limit=200" + query, admin.Access)).BodyAsync(HttpStatusCode.OK))["items"]!
            .AsArray().Select(e => e!).ToList();

    [SuiteFact]
    public async Task A_sign_in_from_a_new_network_and_a_new_device_is_flagged_and_either_alone_is_not()
    {
        var admin = await F.AdminAsync();
        var (id, email) = await F.CreateUserAsync("explore", admin);
        var password = ControlPlaneFixture.DefaultPassword;

        Assert.Equal(HttpStatusCode.OK, await SignInFromAsync("127.0.21.1", "Laptop/1.0", email, password)); // the first: nothing to compare
        Assert.Equal(HttpStatusCode.OK, await SignInFromAsync("127.0.21.9", "Phone/2.0", email, password));  // same /24, new device
        Assert.Equal(HttpStatusCode.OK, await SignInFromAsync("127.0.22.1", "Laptop/1.0", email, password)); // new network, known device
        Assert.Empty(await SuspiciousAsync(admin, "&userId=" + id));

        // The org's webhook for suspicious sign-ins hears of it, signed.
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, secret) = await CreateWebhookAsync(admin.Access, receiver.Url, "suspicious_sign_in");
        Assert.Equal(HttpStatusCode.OK, await SignInFromAsync("127.0.23.1", "Unknown/9.9", email, password)); // both new
        var flagged = Assert.Single(await SuspiciousAsync(admin, "&userId=" + id));
        Assert.True(await receiver.WaitAsync(r => r.Acknowledged.Any(d => (string?)d.Json["data"]?["user_id"] == id), F.Time, TimeSpan.FromMilliseconds(200)),
            "no suspicious_sign_in webhook");
        var delivery = receiver.Acknowledged.First(d => (string?)d.Json["data"]?["user_id"] == id);
        Assert.Equal("suspicious_sign_in", (string?)delivery.Json["type"]);
        Assert.Equal("new_network,new_device", (string?)delivery.Json["data"]!["details"]!["reasons"]);
        Assert.True(Verifies(delivery, secret));
        Assert.Equal("127.0.23.1", (string?)flagged["ipAddress"]);
        Assert.Equal("new_network,new_device", (string?)flagged["details"]!["reasons"]);
        Assert.Equal("60", (string?)flagged["details"]!["risk_score"]);

        // Once seen, that network and device are the user's: the same sign-in again is not flagged.
        Assert.Equal(HttpStatusCode.OK, await SignInFromAsync("127.0.23.7", "Unknown/9.9", email, password));
        Assert.Single(await SuspiciousAsync(admin, "&userId=" + id));
    }

    [SuiteFact]
    public async Task Password_spraying_twenty_accounts_from_one_address_raises_one_alert()
    {
        var admin = await F.AdminAsync();
        var emails = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            emails.Add((await F.CreateUserAsync("explore", admin)).Email);
        }
        var sprayer = $"127.0.{Random.Shared.Next(30, 250)}.{Random.Shared.Next(1, 250)}";
        foreach (var email in emails)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await SignInFromAsync(sprayer, "spray/1.0", email, "Spr4y!guess"));
        }

        var alerts = (await SuspiciousAsync(admin, "")).Where(e => (string?)e["ipAddress"] == sprayer).ToList();
        var alert = Assert.Single(alerts);
        Assert.Equal("password_spraying", (string?)alert["details"]!["reasons"]);
        Assert.Equal("10", (string?)alert["details"]!["distinct_accounts"]);
    }

    [SuiteFact]
    public async Task With_a_location_source_a_sign_in_too_far_too_soon_is_impossible_travel()
    {
        var admin = await F.AdminAsync();
        var (id, email) = await F.CreateUserAsync("explore", admin);
        var password = ControlPlaneFixture.DefaultPassword;
        var dir = Path.Combine(AppContext.BaseDirectory, "Risk");
        var (app, http) = await F.StartAnotherInstanceAsync(
            $"--ControlPlane:Risk:LocationCsv={Path.Combine(dir, "geo-blocks.csv")}", $"--ControlPlane:Risk:LocationNamesCsv={Path.Combine(dir, "geo-locations.csv")}");
        try
        {
            Assert.Equal(HttpStatusCode.OK, await SignInFromAsync("127.0.41.1", "Traveller/1.0", email, password, http.BaseAddress)); // Paris
            F.Time.Advance(TimeSpan.FromMinutes(30));
            Assert.Equal(HttpStatusCode.OK, await SignInFromAsync("127.0.42.1", "Traveller/1.0", email, password, http.BaseAddress)); // Sydney, 30 min later
            F.Time.Advance(TimeSpan.FromHours(24));
            Assert.Equal(HttpStatusCode.OK, await SignInFromAsync("127.0.43.1", "Traveller/1.0", email, password, http.BaseAddress)); // London, a day later
            Assert.Equal(HttpStatusCode.OK, await SignInFromAsync("127.0.44.1", "Traveller/1.0", email, password, http.BaseAddress)); // no coordinates

            var flagged = Assert.Single(await SuspiciousAsync(await F.AdminAsync(), "&userId=" + id)); // a day on: a fresh token
            Assert.Equal("impossible_travel", (string?)flagged["details"]!["reasons"]);
            Assert.Equal("127.0.42.1", (string?)flagged["ipAddress"]);
            Assert.Equal("AU", (string?)flagged["details"]!["country"]);
            Assert.InRange(int.Parse((string)flagged["details"]!["distance_km"]!, System.Globalization.CultureInfo.InvariantCulture), 16_900, 17_000);
        }
        finally
        {
            http.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public void A_location_file_that_cannot_be_read_stops_start_up_naming_the_key()
    {
        var error = Assert.Throws<Authio.Shared.Configuration.ConfigurationException>(() =>
            Authio.ControlPlane.Risk.LocationTable.Load("/nonexistent/geo.csv", null, "ControlPlane:Risk:LocationCsv"));
        Assert.Contains("ControlPlane:Risk:LocationCsv", error.Message);
    }
}
