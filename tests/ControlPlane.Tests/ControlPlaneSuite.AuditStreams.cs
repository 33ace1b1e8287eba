using System.Diagnostics;
using System.Text.Json;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.AuditStreams;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// A directory audit stream receives every org's events in chain order, verifiable from the stream alone (each line's
/// hash recomputes, each links to the org's previous one), and after the instance is replaced it resumes where the
/// stored cursor says, losing nothing.
/// </summary>
public abstract partial class ControlPlaneSuite
{
    /// <summary>The stream's complete lines: a batch being appended while this reads may end in a partial one, left for the next read.</summary>
    private static List<AuditStreamLine> ReadStream(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetFiles(directory, "*.ndjson").Order(StringComparer.Ordinal)
                .SelectMany(CompleteLines).Select(l => JsonSerializer.Deserialize<AuditStreamLine>(l)!).ToList()
            : [];

    private static string[] CompleteLines(string file)
    {
        string text;
        using (var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
        {
            text = reader.ReadToEnd();
        }

        return text[..(text.LastIndexOf('\n') + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private async Task<HashSet<string>> AllAuditIdsAsync()
    {
        await using var c = await F.OpenInspectorAsync();
        return (await c.QueryAsync<string>("SELECT id FROM audit_events")).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Moves the instances' clock a second at a time until the stream holds every event in the database.</summary>
    private async Task<List<AuditStreamLine>> UntilStreamedAsync(string directory)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var lines = ReadStream(directory);
            var missing = (await AllAuditIdsAsync()).Except(lines.Select(l => l.Id)).ToList();
            if (missing.Count == 0)
            {
                return lines;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{missing.Count} events never reached the stream");
            F.Time.Advance(AuditStreamer.Interval);
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Every event not in <paramref name="before"/> recomputes to its hash and links to the org's previous line. (Events
    /// from before the test are only linked to: other tests of the suite tamper with rows on purpose.)
    /// </summary>
    private static void AssertVerifiable(List<AuditStreamLine> lines, HashSet<string> before)
    {
        // At least once: a line may repeat after a crash; the chain is checked on each event once, per org, in order.
        foreach (var org in lines.DistinctBy(l => l.Id).GroupBy(l => l.OrgId))
        {
            AuditStreamLine? previous = null;
            foreach (var line in org.OrderBy(l => l.Seq))
            {
                if (before.Contains(line.Id))
                {
                    previous = line;
                    continue;
                }

                var row = new AuditRow
                {
                    OrgId = line.OrgId, Id = line.Id, Ts = line.Ts, Event = line.Event, ActorId = line.ActorId, UserId = line.UserId, Email = line.Email,
                    SessionId = line.SessionId, Ip = line.Ip, UserAgent = line.UserAgent, Outcome = line.Outcome, Details = line.Details, PrevHash = line.PrevHash,
                    Format = line.Format, Salts = line.Salts, Redacted = line.Redacted,
                };
                Assert.Equal(line.Hash, AuditLog.HashOf(row));
                if (previous is not null)
                {
                    Assert.True(line.PrevHash == previous.Hash, $"{line.OrgId} seq {line.Seq} does not link to seq {previous.Seq}");
                }
                previous = line;
            }
        }
    }

    [SuiteFact]
    public async Task An_audit_stream_gets_every_event_in_chain_order_verifiable_alone_and_resumes_after_a_restart()
    {
        var directory = Directory.CreateTempSubdirectory("authio-audit-stream").FullName;
        try
        {
            var admin = await F.AdminAsync();
            var before = await AllAuditIdsAsync();
            var (first, firstHttp) = await F.StartAnotherInstanceAsync($"--ControlPlane:AuditStreams:files:Directory={directory}");
            try
            {
                await F.CreateUserAsync("explore", admin);
                AssertVerifiable(await UntilStreamedAsync(directory), before);
            }
            finally
            {
                firstHttp.Dispose();
                await first.StopAsync();
                await first.DisposeAsync();
            }

            // Events while no instance streams, then a new instance on the same database and directory.
            var (_, email) = await F.CreateUserAsync("explore", admin);
            await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
            var streamedBefore = ReadStream(directory).Count;
            var (second, secondHttp) = await F.StartAnotherInstanceAsync($"--ControlPlane:AuditStreams:files:Directory={directory}");
            try
            {
                var lines = await UntilStreamedAsync(directory);
                AssertVerifiable(lines, before);
                Assert.Equal(lines.Count, lines.DistinctBy(l => l.Id).Count()); // resumed from the cursor: nothing sent twice
                Assert.True(lines.Count > streamedBefore);
                Assert.Contains(lines, l => l.Event == AuditEvents.LoginSucceeded && l.Email == email);
                Assert.All(lines, l => Assert.Equal(AuditStreamLine.CurrentVersion, l.Version));
            }
            finally
            {
                secondHttp.Dispose();
                await second.StopAsync();
                await second.DisposeAsync();
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [SuiteFact]
    public async Task Two_instances_with_the_same_stream_deliver_each_event_once_and_one_takes_over_when_the_other_stops()
    {
        var directory = Directory.CreateTempSubdirectory("authio-audit-stream").FullName;
        var setting = $"--ControlPlane:AuditStreams:shared:Directory={directory}";
        var (first, firstHttp) = await F.StartAnotherInstanceAsync(setting);
        var (second, secondHttp) = await F.StartAnotherInstanceAsync(setting);
        try
        {
            var admin = await F.AdminAsync();
            for (var i = 0; i < 3; i++)
            {
                await F.CreateUserAsync("explore", admin);
                await UntilStreamedAsync(directory);
                for (var round = 0; round < 3; round++)
                {
                    F.Time.Advance(AuditStreamer.Interval);
                    await Task.Delay(50);
                }

                var lines = ReadStream(directory);
                Assert.Equal(lines.Count, lines.DistinctBy(l => l.Id).Count()); // one instance delivers: no event twice
            }

            // Whichever held the stream stops; the other carries on with what comes next, still without repeats.
            firstHttp.Dispose();
            await first.StopAsync();
            await first.DisposeAsync();
            first = null!;
            await F.CreateUserAsync("explore", admin);
            var after = await UntilStreamedAsync(directory);
            Assert.Equal(after.Count, after.DistinctBy(l => l.Id).Count());
        }
        finally
        {
            if (first is not null)
            {
                firstHttp.Dispose();
                await first.StopAsync();
                await first.DisposeAsync();
            }

            secondHttp.Dispose();
            await second.StopAsync();
            await second.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    [SuiteFact]
    public async Task A_streams_lease_has_one_holder_until_released_or_lapsed_and_its_cursor_never_moves_back()
    {
        var store = new AuditStreamStore(F.Services.GetRequiredService<Authio.ControlPlane.Storage.Db>()); // registered only with streams configured
        var stream = "lease-" + Guid.NewGuid().ToString("N")[..8];
        Assert.True(await store.TryLeaseAsync(stream, "a", 1_000, 16_000, default));
        Assert.False(await store.TryLeaseAsync(stream, "b", 2_000, 17_000, default)); // a holds it
        Assert.True(await store.TryLeaseAsync(stream, "a", 3_000, 18_000, default));  // a renews
        Assert.False(await store.TryLeaseAsync(stream, "b", 17_999, 32_999, default));
        Assert.True(await store.TryLeaseAsync(stream, "b", 18_000, 33_000, default));  // lapsed: b takes over
        Assert.False(await store.TryLeaseAsync(stream, "a", 19_000, 34_000, default));
        await store.ReleaseLeaseAsync(stream, "a", default);                           // not a's to release
        Assert.False(await store.TryLeaseAsync(stream, "a", 19_000, 34_000, default));
        await store.ReleaseLeaseAsync(stream, "b", default);
        Assert.True(await store.TryLeaseAsync(stream, "a", 19_000, 34_000, default));  // released: at once

        await store.SetCursorAsync(stream, "org_x", 10, default);
        await store.SetCursorAsync(stream, "org_x", 7, default); // a former holder finishing late
        Assert.Equal(10, (await store.CursorsAsync(stream, default))["org_x"]);
        await store.SetCursorAsync(stream, "org_x", 12, default);
        Assert.Equal(12, (await store.CursorsAsync(stream, default))["org_x"]);
    }

    /// <summary>An https (here loopback http) audit stream: NDJSON batches by POST; a refused batch is sent again.</summary>
    [SuiteFact]
    public async Task An_http_audit_stream_gets_ndjson_batches_and_a_refused_batch_again()
    {
        var received = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var refuse = 2;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var receiver = builder.Build();
        receiver.MapPost("/audit", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            if (Interlocked.Decrement(ref refuse) >= 0)
            {
                return Results.StatusCode(503);
            }
            Assert.Equal("application/x-ndjson", http.Request.ContentType?.Split(';')[0]);
            received.Enqueue(body);
            return Results.Ok();
        });
        await receiver.StartAsync();
        var url = receiver.Urls.First() + "/audit";

        var admin = await F.AdminAsync();
        var before = await AllAuditIdsAsync();
        await F.CreateUserAsync("explore", admin);
        var (app, http) = await F.StartAnotherInstanceAsync($"--ControlPlane:AuditStreams:siem:Url={url}");
        try
        {
            var clock = Stopwatch.StartNew();
            List<AuditStreamLine> lines;
            while (true)
            {
                lines = received.SelectMany(b => b.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(l => JsonSerializer.Deserialize<AuditStreamLine>(l)!).ToList();
                if ((await AllAuditIdsAsync()).IsSubsetOf(lines.Select(l => l.Id)))
                {
                    break;
                }
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the receiver never got every event");
                F.Time.Advance(AuditStreamer.Interval);
                await Task.Delay(50);
            }
            AssertVerifiable(lines, before);
            Assert.True(refuse < 0, "the refused batches were sent again");
        }
        finally
        {
            http.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
