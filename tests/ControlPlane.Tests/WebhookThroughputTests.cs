using System.Diagnostics;
using System.Net;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Authio.ControlPlane.Tests;

/// <summary>A measurement, not a pass/fail check: runs only with <c>AUTHIO_WEBHOOK_THROUGHPUT=1</c>.</summary>
public sealed class WebhookThroughputFactAttribute : FactAttribute
{
    public WebhookThroughputFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("AUTHIO_WEBHOOK_THROUGHPUT") != "1")
        {
            Skip = "Outbox throughput measurement: set AUTHIO_WEBHOOK_THROUGHPUT=1 (and AUTHIO_TEST_POSTGRES for PostgreSQL).";
        }
    }
}

/// <summary>
/// Events per second the delivery worker moves from the outbox to a local receiver: N audit events are written with
/// the worker stopped, then the worker is started and timed until the receiver has acknowledged all N.
/// </summary>
internal static class WebhookThroughput
{
    public const int Events = 2000;

    public static async Task MeasureAsync(ControlPlaneFixture f, ITestOutputHelper output, string store)
    {
        if (!f.Started)
        {
            return;
        }

        var admin = await f.AdminAsync();
        var orgId = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(admin.Access).GetPayloadValue<string>("org");
        await using var receiver = await WebhookReceiver.StartAsync();
        var created = await (await f.SendAsync(HttpMethod.Post, "/v1/webhooks", admin.Access, new { url = receiver.Url, events = new[] { "user_created" } }))
            .BodyAsync(HttpStatusCode.Created);
        var worker = f.Services.GetRequiredService<WebhookDispatcher>();
        await worker.StopAsync(CancellationToken.None);
        var audit = f.Services.GetRequiredService<AuditLog>();
        var write = Stopwatch.StartNew();
        for (var i = 0; i < Events; i++)
        {
            await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.UserCreated) { UserId = "usr_" + i, Email = $"t{i}@acme.test" });
        }
        write.Stop();

        var deliver = Stopwatch.StartNew();
        await worker.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (receiver.Acknowledged.Count() < Events && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        deliver.Stop();
        var delivered = receiver.Acknowledged.Select(r => r.EventId).Distinct().Count();
        output.WriteLine($"{store}: {delivered} events delivered in {deliver.Elapsed.TotalSeconds:F2} s = {delivered / deliver.Elapsed.TotalSeconds:F0} events/s "
            + $"(writing the {Events} audit events with their outbox rows took {write.Elapsed.TotalSeconds:F2} s = {Events / write.Elapsed.TotalSeconds:F0}/s)");
        Assert.Equal(Events, delivered);
        await f.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{(string)created["id"]!}", admin.Access);
    }
}

public sealed class WebhookThroughputSqlite(SqliteFixture f, ITestOutputHelper output) : IClassFixture<SqliteFixture>
{
    [WebhookThroughputFact]
    public Task Outbox_throughput_on_sqlite() => WebhookThroughput.MeasureAsync(f, output, "SQLite");
}

public sealed class WebhookThroughputPostgres(PostgresFixture f, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    [WebhookThroughputFact]
    public Task Outbox_throughput_on_postgresql() => WebhookThroughput.MeasureAsync(f, output, "PostgreSQL");
}
