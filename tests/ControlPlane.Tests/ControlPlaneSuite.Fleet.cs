using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Authio.Shared.Errors;
using Authio.Shared.Fleet;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    private static object Report(string id, object? routes = null, double interval = 10, string? transport = "http") => new
    {
        id,
        version = "1.2.3+abc",
        interval_seconds = interval,
        feed_sequence = 42,
        feed_lag_seconds = 0.5,
        feed_transport = transport,
        key_set_age_seconds = 12.5,
        window_seconds = interval,
        routes = routes ?? new[] { new { route = "orders", requests = 120, p50_ms = 1.2, p95_ms = 4.5, p99_ms = 9.8 } },
    };

    private static JsonNode? EdgeIn(JsonNode fleet, string id) => fleet["edges"]!.AsArray().FirstOrDefault(e => (string?)e!["id"] == id);

    [SuiteFact]
    public async Task An_edge_report_is_listed_for_operators_only_and_goes_stale_when_the_edge_falls_silent()
    {
        var admin = await F.AdminAsync();
        var edgeKey = await EdgeKeyAsync(admin);
        var id = "edge-" + Guid.NewGuid().ToString("N")[..8];
        await (await F.SendAsync(HttpMethod.Post, FleetPaths.Report, edgeKey, Report(id))).BodyAsync(HttpStatusCode.NoContent);

        var fleet = await (await F.SendAsync(HttpMethod.Get, FleetPaths.Edges, admin.Access)).BodyAsync(HttpStatusCode.OK);
        var edge = EdgeIn(fleet, id)!;
        Assert.Equal("1.2.3+abc", (string?)edge["version"]);
        Assert.False((bool)edge["stale"]!);
        Assert.Equal(42L, (long)edge["feed_sequence"]!);
        Assert.Equal(0.5, (double)edge["feed_lag_seconds"]!);
        Assert.Equal("http", (string?)edge["feed_transport"]);
        Assert.Equal(12.5, (double)edge["key_set_age_seconds"]!);
        Assert.InRange(DateTimeOffset.Parse((string)edge["last_seen"]!, System.Globalization.CultureInfo.InvariantCulture), F.Time.GetUtcNow().AddSeconds(-5), F.Time.GetUtcNow());
        var route = edge["routes"]![0]!;
        Assert.Equal(("orders", 120L, 9.8), ((string?)route["route"], (long)route["requests"]!, (double)route["p99_ms"]!));
        Assert.True((long)fleet["head_sequence"]! > 0);
        Assert.Equal(10.0, (double)fleet["report_interval_seconds"]!);

        // Not for an ordinary member, nor for a tenant org's mod; not with an edge key either (that is not a session).
        var (_, memberEmail) = await F.CreateUserAsync("mod", admin);
        var (_, tenantOrg, tenantMod) = await TenantAsync(admin);
        Assert.NotNull(tenantOrg);
        await (await F.SendAsync(HttpMethod.Get, FleetPaths.Edges, tenantMod.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        var (_, createEmail) = await F.CreateUserAsync("create", admin);
        var member = await F.LoginOkAsync(createEmail, ControlPlaneFixture.DefaultPassword);
        await (await F.SendAsync(HttpMethod.Get, FleetPaths.Edges, member.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        Assert.NotNull(memberEmail);
        await (await F.SendAsync(HttpMethod.Get, FleetPaths.Edges, edgeKey)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);

        // Silent for 3 intervals: stale; for 10: gone.
        F.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.False((bool)EdgeIn(await (await F.SendAsync(HttpMethod.Get, FleetPaths.Edges, admin.Access)).BodyAsync(HttpStatusCode.OK), id)!["stale"]!);
        F.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.True((bool)EdgeIn(await (await F.SendAsync(HttpMethod.Get, FleetPaths.Edges, admin.Access)).BodyAsync(HttpStatusCode.OK), id)!["stale"]!);
        // A new report makes it online again.
        await (await F.SendAsync(HttpMethod.Post, FleetPaths.Report, edgeKey, Report(id))).BodyAsync(HttpStatusCode.NoContent);
        Assert.False((bool)EdgeIn(await (await F.SendAsync(HttpMethod.Get, FleetPaths.Edges, admin.Access)).BodyAsync(HttpStatusCode.OK), id)!["stale"]!);
        F.Time.Advance(TimeSpan.FromSeconds(101));
        Assert.Null(EdgeIn(await (await F.SendAsync(HttpMethod.Get, FleetPaths.Edges, admin.Access)).BodyAsync(HttpStatusCode.OK), id));
        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM edges WHERE id = @id", new { id }));
    }

    [SuiteFact]
    public async Task Only_edge_keys_may_report_status()
    {
        var admin = await F.AdminAsync();
        var id = "edge-" + Guid.NewGuid().ToString("N")[..8];
        var appKey = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", admin.Access,
            new { name = "app", scopes = new[] { "admin" }, environment = "live" })).BodyAsync(HttpStatusCode.Created))["key"]!;
        await (await F.SendAsync(HttpMethod.Post, FleetPaths.Report, appKey, Report(id))).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await F.SendAsync(HttpMethod.Post, FleetPaths.Report, null, Report(id))).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await F.SendAsync(HttpMethod.Post, FleetPaths.Report, admin.Access, Report(id))).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM edges WHERE id = @id", new { id }));
    }

    [SuiteFact]
    public async Task Oversized_or_malformed_reports_are_400_and_change_nothing()
    {
        var admin = await F.AdminAsync();
        var edgeKey = await EdgeKeyAsync(admin);
        var id = "edge-" + Guid.NewGuid().ToString("N")[..8];
        var route = new { route = "r", requests = 1, p50_ms = 1.0, p95_ms = 1.0, p99_ms = 1.0 };
        var tooManyRoutes = Enumerable.Range(0, FleetPaths.MaxRoutes + 1).Select(i => route with { route = "r" + i }).ToArray();
        object[] bad =
        [
            Report(id, tooManyRoutes),
            Report(new string('e', FleetPaths.MaxNameLength + 1)),
            Report("edge with spaces"),
            Report(""),
            Report(id, new[] { route with { route = new string('r', FleetPaths.MaxNameLength + 1) } }),
            Report(id, new[] { route, route }),
            Report(id, new[] { route with { requests = -1 } }),
            Report(id, new[] { route with { p50_ms = 5.0 } }),
            Report(id, new object?[] { null }),
            Report(id, transport: "carrier-pigeon"),
            Report(id, interval: 0),
            new { id, version = "1" },
            new { id, version = new string('v', FleetPaths.MaxNameLength + 1), interval_seconds = 10, window_seconds = 10, routes = Array.Empty<object>() },
        ];
        foreach (var body in bad)
        {
            await (await F.SendAsync(HttpMethod.Post, FleetPaths.Report, edgeKey, body)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        }
        foreach (var raw in new[] { "{", "[]", "null", "{\"id\":" + id.Length + "}", "{\"id\":\"" + id + "\",\"routes\":\"x\"}", "" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, FleetPaths.Report) { Content = new StringContent(raw, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new("Bearer", edgeKey);
            using var response = await F.Http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{raw}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM edges WHERE id = @id", new { id }));
    }
}
