using System.Net;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Storage;
using Authio.Shared.Sync;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// Several control-plane instances on one database write the edge change log at once: an edge reading the feed gets
/// every change exactly once, numbered without a gap and in order, and a rolled-back write burns no number.
/// </summary>
public abstract partial class ControlPlaneSuite
{
    private const int FleetWritesPerInstance = 200;

    [SuiteFact]
    public async Task Three_instances_writing_at_once_keep_the_change_log_gap_free_and_in_order()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var users = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            users.Add((await F.CreateUserAsync("explore", admin)).Id);
        }

        var changes = F.Services.GetRequiredService<EdgeChangeStore>();
        var start = await changes.LastSequenceAsync(CancellationToken.None);
        // A writer whose transaction appends and then fails: its number must not be missing from the log.
        var db = F.Services.GetRequiredService<Db>();
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.GlobalAsync<int>(async (c, tx) =>
        {
            await changes.AppendGlobalRevocationAsync(c, tx, RevocationKinds.TokenId, "rolled-back", NowSeconds * 1000, NowSeconds * 1000 + 60_000);
            throw new InvalidOperationException("the request failed after its append");
        }));

        var (second, secondHttp) = await F.StartAnotherInstanceAsync();
        var (third, thirdHttp) = await F.StartAnotherInstanceAsync();
        try
        {
            HttpClient[] instances = [F.Http, secondHttp, thirdHttp];
            using var gate = new SemaphoreSlim(24);
            var writes = Enumerable.Range(0, FleetWritesPerInstance * instances.Length).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/users/{users[i % users.Count]}/logout-all");
                    request.Headers.Authorization = new("Bearer", admin.Access);
                    using var response = await instances[i % instances.Length].SendAsync(request);
                    return response.StatusCode;
                }
                finally
                {
                    gate.Release();
                }
            });
            var statuses = await Task.WhenAll(writes);
            Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.NoContent, $"logout-all answered {s}"));

            // What an edge following the feed (here through the second instance) receives.
            var received = new List<(long Seq, string Kind, string Value)>();
            var after = start;
            while (true)
            {
                var batch = Changes(await ChangesAsync(edge, after, http: secondHttp));
                if (batch.Count == 0)
                {
                    break;
                }

                foreach (var change in batch)
                {
                    var revocation = change["revocation"];
                    received.Add(((long)change["seq"]!, (string?)revocation?["kind"] ?? (string)change["type"]!, (string?)revocation?["value"] ?? ""));
                }
                after = received[^1].Seq;
            }

            var expectedWrites = FleetWritesPerInstance * instances.Length;
            Assert.True(received.Count >= expectedWrites, $"{received.Count} changes after {start}, expected at least {expectedWrites}");
            for (var i = 0; i < received.Count; i++)
            {
                Assert.True(received[i].Seq == start + 1 + i, $"change #{i} has sequence {received[i].Seq}, expected {start + 1 + i} (a gap or a repeat)");
            }
            Assert.Equal(expectedWrites, received.Count(r => r.Kind == RevocationKinds.UserNotBefore && users.Contains(r.Value)));
            Assert.DoesNotContain(received, r => r.Value == "rolled-back");
        }
        finally
        {
            foreach (var (app, http) in new[] { (second, secondHttp), (third, thirdHttp) })
            {
                http.Dispose();
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
    }
}
