using System.Diagnostics;
using System.Net;
using Authio.Shared.Sync;
using StackExchange.Redis;

namespace Authio.ControlPlane.Tests;

/// <summary>SQLite and a private Redis whose edge stream another (older) change log left behind.</summary>
public sealed class StaleStreamFixture : SqliteFixtureBase
{
    public TestRedisServer Redis { get; private set; } = null!;

    protected override async Task<string[]?> StoreArgumentsAsync()
    {
        Redis = await TestRedisServer.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString);
        await connection.GetDatabase().StreamAddAsync(EdgeSyncPaths.RedisStream, [new(EdgeSyncPaths.RedisChangeField, "{}")], "100000-0");
        return await base.StoreArgumentsAsync();
    }

    protected override IEnumerable<string> ExtraArguments => [$"--ControlPlane:Redis={Redis.ConnectionString}"];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>
/// A control plane on a fresh database and a Redis kept from another deployment: the stream there is ahead of this
/// log, so the publisher starts it again and this log's changes reach Redis at once (before: never, until this log
/// passed the old stream's end; edges fell back to the HTTP feed).
/// </summary>
public sealed class StaleRedisStreamTests(StaleStreamFixture f) : IClassFixture<StaleStreamFixture>
{
    [RedisServerFact]
    public async Task A_stream_left_by_another_log_is_started_again_and_this_logs_changes_are_published()
    {
        var admin = await f.AdminAsync();
        var (id, _) = await f.CreateUserAsync("explore", admin);
        await (await f.SendAsync(HttpMethod.Post, $"/v1/users/{id}/logout-all", admin.Access)).BodyAsync(HttpStatusCode.OK);

        await using var connection = await ConnectionMultiplexer.ConnectAsync(f.Redis.ConnectionString);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var entries = await connection.GetDatabase().StreamRangeAsync(EdgeSyncPaths.RedisStream, "-", "+");
            if (entries.Any(e => ((string?)e[EdgeSyncPaths.RedisChangeField])?.Contains(id, StringComparison.Ordinal) == true))
            {
                Assert.DoesNotContain(entries, e => e.Id == "100000-0");
                return;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the logout-all never reached the Redis stream");
            f.Time.Advance(TimeSpan.FromMilliseconds(300));
            await Task.Delay(100);
        }
    }
}
