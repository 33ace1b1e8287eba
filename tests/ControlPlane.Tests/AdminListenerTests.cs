using System.Net;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Storage;
using Authio.Shared.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public sealed class AdminListenerTests
{
    [Fact]
    public async Task Readyz_is_503_naming_the_failed_checks_when_the_database_is_unreachable()
    {
        var dir = Path.Combine(Path.GetTempPath(), "authio-admin-" + Guid.NewGuid().ToString("N"));
        try
        {
            // The app runs on SQLite; readiness is pointed at a PostgreSQL nobody listens on, as after losing the database.
            var app = ControlPlaneApp.Build(["--urls=http://127.0.0.1:0", "--ControlPlane:AdminUrls=http://127.0.0.1:0", $"--ControlPlane:DataDirectory={dir}",
                "--ControlPlane:Jobs:Enabled=false", "--Logging:LogLevel:Default=Warning"],
                s => s.AddSingleton(new HealthStore(new Db(Dialect.Postgres, "Host=127.0.0.1;Port=1;Timeout=2;Pooling=false", null))));
            await using (app)
            {
                await ControlPlaneApp.PrepareAsync(app);
                await app.StartAsync();
                using var admin = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<AdminListener>().Addresses.First()) };
                Assert.Equal("ok", await admin.GetStringAsync("/healthz"));
                var r = await admin.GetAsync("/readyz");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
                var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
                Assert.Equal("not_ready", (string?)body["status"]);
                var checks = body["checks"]!.AsArray().ToDictionary(c => (string)c!["name"]!, c => (string)c!["status"]!);
                Assert.Equal("failed", checks["database"]);
                Assert.Equal("failed", checks["migrations"]);
                Assert.Equal("failed", checks["key_ring"]);
                Assert.False(checks.ContainsKey("redis")); // not configured, not checked
                await app.StopAsync();
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Readyz_names_an_unreachable_redis_when_one_is_configured()
    {
        var dir = Path.Combine(Path.GetTempPath(), "authio-admin-" + Guid.NewGuid().ToString("N"));
        try
        {
            var app = ControlPlaneApp.Build(["--urls=http://127.0.0.1:0", "--ControlPlane:AdminUrls=http://127.0.0.1:0", $"--ControlPlane:DataDirectory={dir}",
                "--ControlPlane:Jobs:Enabled=false", "--ControlPlane:Redis=127.0.0.1:1,connectTimeout=500", "--Logging:LogLevel:Default=None"]);
            await using (app)
            {
                await ControlPlaneApp.PrepareAsync(app);
                await app.StartAsync();
                using var admin = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<AdminListener>().Addresses.First()) };
                var r = await admin.GetAsync("/readyz");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
                var checks = JsonNode.Parse(await r.Content.ReadAsStringAsync())!["checks"]!.AsArray()
                    .ToDictionary(c => (string)c!["name"]!, c => (string)c!["status"]!);
                Assert.Equal(new Dictionary<string, string> { ["database"] = "ok", ["migrations"] = "ok", ["redis"] = "failed", ["key_ring"] = "ok" }, checks);
                await app.StopAsync();
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a url")]
    [InlineData("ftp://127.0.0.1:9902")]
    public void A_bad_admin_url_stops_start_up_naming_the_key(string value)
    {
        var ex = Assert.Throws<ConfigurationException>(() => ControlPlaneApp.Build(["--urls=http://127.0.0.1:0", $"--ControlPlane:AdminUrls={value}",
            $"--ControlPlane:DataDirectory={Path.GetTempPath()}"]));
        Assert.Contains("ControlPlane:AdminUrls", ex.Message);
    }
}
