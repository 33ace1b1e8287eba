using System.Net;
using System.Text.Json;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.EdgeProxy.Tests.Sync;
using Authio.Shared.Sync;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Tests.Revocation;

/// <summary>
/// The exact revocation set held in Redis (issue 5): the edge keeps the bloom filter and the unmirrored tail, confirms
/// filter positives in Redis, and never lets a revoked credential through when Redis is gone or lost its data.
/// </summary>
public abstract class RedisExactSetTestBase : IAsyncLifetime
{
    private readonly RecordingUpstream _upstream = new();
    protected readonly FakeFeed Feed = new(TestKey.Es256("cp-key-x"));
    protected ITestRedis Redis = null!;
    protected ConnectionMultiplexer Writer = null!;
    protected EdgeTestHost Edge = null!;

    protected virtual void Configure(Dictionary<string, string?> config)
    {
    }

    protected virtual async Task<ITestRedis> StartRedisAsync() => await RedisProcess.StartAsync();

    public async Task InitializeAsync()
    {
        await _upstream.StartAsync();
        await Feed.StartAsync();
        Redis = await StartRedisAsync();
        Writer = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString + ",syncTimeout=5000,allowAdmin=true"); // the fake feed writes synchronously; the box is busy
        Feed.Redis = Writer.GetDatabase();
        Feed.MirrorRevocations = true;
        await Writer.GetDatabase().StringSetAsync(EdgeSyncPaths.RedisRevokedThrough, 0); // the control plane seeded an empty set
        var config = EdgeTestHost.ControlPlaneOnlyConfig(_upstream.Url, Feed.Url, Feed.EdgeKey);
        config["Edge:Redis"] = Redis.ConnectionString;
        Configure(config);
        Edge = await EdgeTestHost.StartAsync(config);
        await Edge.WaitForSnapshotAsync();
    }

    public async Task DisposeAsync()
    {
        await Edge.DisposeAsync();
        await Writer.DisposeAsync();
        await Redis.DisposeAsync();
        await Feed.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private protected RevocationStage Stage => Edge.Services.GetRequiredService<RevocationStage>();

    protected string Mint(string sid) => Jwt.Sign(Feed.Key, Jwt.Header(Feed.Key),
        Jwt.Claims(Edge.Time.GetUtcNow(), iss: FakeFeed.Issuer, aud: $"\"{FakeFeed.Audience}\"").Replace("\"sess_1\"", $"\"{sid}\""));

    protected async Task<(HttpStatusCode Status, string Detail)> Call(string token)
    {
        using var response = await Edge.GetAsync("/api/x", token);
        var body = await response.Content.ReadAsStringAsync();
        var detail = response.StatusCode == HttpStatusCode.OK ? "" : JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
        return (response.StatusCode, detail);
    }

    protected long InAnHour => Edge.Time.GetUtcNow().AddHours(1).ToUnixTimeSeconds();

    /// <summary>Revokes through the feed and waits until the edge applied it.</summary>
    protected async Task RevokeAsync(string sid)
    {
        var seq = Feed.Revoke(RevocationKinds.SessionId, sid, InAnHour);
        for (var i = 0; i < 500 && Stage.Current.Sequence < seq; i++)
        {
            await Task.Delay(10);
        }
        Assert.True(Stage.Current.Sequence >= seq, "the edge never applied the revocation");
    }

    /// <summary>Waits until the edge dropped from memory what Redis holds (it prunes right after applying a batch).</summary>
    protected async Task UntilOnlyTheFilterIsHeldAsync()
    {
        for (var i = 0; i < 500 && Stage.Current.Count > 0; i++)
        {
            await Task.Delay(10);
        }
        Assert.Equal(0, Stage.Current.Count);
    }

    /// <summary>Lets cached Redis answers (Edge:Revocation:ConfirmCacheDuration, 2 s) lapse.</summary>
    protected void ForgetCachedAnswers() => Edge.Time.Advance(TimeSpan.FromSeconds(3));
}

/// <summary>The exact set's cases, on one Redis server and on a Redis Cluster.</summary>
public abstract class RedisExactSetCases : RedisExactSetTestBase
{
    [RedisFact]
    public async Task Revoked_ids_are_settled_in_redis_and_the_edge_holds_only_the_filter()
    {
        var token = Mint("sess_x1");
        Assert.Equal(HttpStatusCode.OK, (await Call(token)).Status);
        await RevokeAsync("sess_x1");
        Assert.True(Stage.Current.RemoteExact);
        await UntilOnlyTheFilterIsHeldAsync(); // Redis has it: nothing kept here but the filter bits
        var rejected = await Call(token);
        Assert.Equal(HttpStatusCode.Unauthorized, rejected.Status);
        Assert.Contains("revoked", rejected.Detail);
        Assert.Equal(HttpStatusCode.OK, (await Call(Mint("sess_x2"))).Status);
    }

    [RedisFact]
    public async Task Answers_confirmed_in_redis_do_not_keep_superseded_snapshots_alive()
    {
        var superseded = new List<WeakReference>();
        for (var i = 0; i < 4; i++)
        {
            var token = Mint("sess_w" + i);
            await RevokeAsync("sess_w" + i);
            await UntilOnlyTheFilterIsHeldAsync();
            superseded.Add(Snapshot());
            Assert.Equal(HttpStatusCode.Unauthorized, (await Call(token)).Status); // confirmed in Redis, the answer cached
        }

        await RevokeAsync("sess_w_last"); // every snapshot above is now superseded
        for (var i = 0; i < 3 && superseded.Any(w => w.IsAlive); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        // Each filter is ~180 KB: an answer cache pinning the snapshots it answered for grew the soak's edges without bound.
        Assert.All(superseded, w => Assert.False(w.IsAlive, "a superseded revocation snapshot is still reachable"));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private WeakReference Snapshot() => new(Stage.Current);

    [RedisFact]
    public async Task Answers_past_their_validity_are_dropped_not_kept_until_the_cache_is_full()
    {
        var answers = (Authio.EdgeProxy.Redis.RedisRevocations)Edge.Services.GetRequiredService<Authio.EdgeProxy.Revocation.IRemoteRevocationSet>();
        var tokens = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            tokens.Add(Mint("sess_x" + i));
            await RevokeAsync("sess_x" + i);
        }
        await UntilOnlyTheFilterIsHeldAsync();
        foreach (var token in tokens)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await Call(token)).Status); // confirmed in Redis, the answer cached
        }
        Assert.InRange(answers.CachedAnswers, 3, 10);

        Edge.Time.Advance(TimeSpan.FromMinutes(1)); // past Edge:Revocation:ConfirmCacheDuration
        Assert.Equal(HttpStatusCode.Unauthorized, (await Call(tokens[0])).Status); // asked again; the sweep runs
        Assert.InRange(answers.CachedAnswers, 1, 2); // only the fresh answers (its sid, and its jti if it has one)
    }

    [RedisFact]
    public async Task A_revocation_not_yet_mirrored_is_held_in_memory_until_redis_has_it()
    {
        Feed.MirrorRevocations = false; // the control plane's mirror lags behind its stream
        var token = Mint("sess_lag");
        Assert.Equal(HttpStatusCode.OK, (await Call(token)).Status);
        await RevokeAsync("sess_lag");
        await Task.Delay(200); // the prune after the batch found nothing newer in Redis
        Assert.Equal(1, Stage.Current.Count);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Call(token)).Status);
    }

    [RedisFact]
    public async Task Redis_killed_revoked_credentials_stay_rejected_and_clean_traffic_passes()
    {
        var token = Mint("sess_k1");
        Assert.Equal(HttpStatusCode.OK, (await Call(token)).Status);
        await RevokeAsync("sess_k1");
        await UntilOnlyTheFilterIsHeldAsync();
        Redis.Kill();
        ForgetCachedAnswers();
        for (var i = 0; i < 3; i++)
        {
            using var rejected = await Edge.GetAsync("/api/x", token); // Edge:Revocation:FailClosed (default)
            Assert.Contains("cannot be verified", (await ProblemAssert.Unverifiable(rejected)).GetProperty("detail").GetString());
        }
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Call(Mint("sess_clean_" + i))).Status); // bloom-negative: no Redis needed
        }
    }

    [RedisFact]
    public async Task A_redis_that_lost_its_data_is_not_trusted_until_the_control_plane_seeds_it_again()
    {
        var token = Mint("sess_f1");
        await RevokeAsync("sess_f1");
        await UntilOnlyTheFilterIsHeldAsync();
        await Redis.FlushAllAsync(); // e.g. restarted without persistence
        ForgetCachedAnswers();
        Assert.Contains("cannot be verified", (await Call(token)).Detail); // no marker: an empty set proves nothing

        // A marker that went backwards (restored from an older dump) is no better.
        await Writer.GetDatabase().StringSetAsync(EdgeSyncPaths.RedisRevokedThrough, 0);
        Assert.Contains("cannot be verified", (await Call(token)).Detail);

        // Seeded again: the set and the marker are back.
        await Writer.GetDatabase().StringSetAsync(EdgeSyncPaths.RedisRevokedKey(RevocationKinds.SessionId, "sess_f1"), 1, TimeSpan.FromHours(1));
        await Writer.GetDatabase().StringSetAsync(EdgeSyncPaths.RedisRevokedThrough, Stage.Current.Sequence);
        Assert.Contains("revoked", (await Call(token)).Detail);
    }

    [RedisFact]
    public async Task Bloom_false_positives_do_not_reject_clean_tokens_when_redis_answers()
    {
        // A deliberately tiny, saturated filter: most clean session ids become filter positives.
        var revoked = Enumerable.Range(0, 400).Select(i => new RevokedId(RevocationKind.SessionId, "sess_bulk_" + i, InAnHour, Sequence: 1)).ToArray();
        var stage = new RevocationStage(Edge.Time, capacity: 64, falsePositiveRate: 0.4, Stage.Redis);
        await Writer.GetDatabase().StringSetAsync(EdgeSyncPaths.RedisRevokedThrough, 1);
        foreach (var id in revoked)
        {
            await Writer.GetDatabase().StringSetAsync(EdgeSyncPaths.RedisRevokedKey(RevocationKinds.SessionId, id.Value), 1, TimeSpan.FromHours(1));
        }
        stage.Replace(revoked, 1, remoteExact: true, mirroredThrough: 1);
        Assert.Equal(0, stage.Current.Count);

        var positives = 0;
        for (var i = 0; i < 200; i++)
        {
            var clean = Identity("sess_clean_" + i);
            if (stage.Check(clean) == RevocationVerdict.Unconfirmed)
            {
                positives++;
                Assert.Equal(RevocationVerdict.Clean, await stage.ConfirmAsync(clean, default));
            }
        }
        Assert.True(positives > 20, $"only {positives} filter positives: the test did not exercise the exact check");
        Assert.Equal(RevocationVerdict.Revoked, await stage.ConfirmAsync(Identity("sess_bulk_7"), default));
    }

    private static Authio.EdgeProxy.Authentication.EdgeIdentity Identity(string sid) => new()
    {
        Subject = null, SessionId = sid, Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = long.MaxValue, IssuedAt = 1,
    };
}

public sealed class RedisExactSetTests : RedisExactSetCases;

/// <summary>
/// The same cases on a real three-master Redis Cluster: the marker and every revoked id share one hash slot
/// (<c>authio:{revoked}:…</c>), so the control plane's mirror script and the edge's one-round-trip lookup stay
/// single-slot operations.
/// </summary>
public sealed class RedisExactSetOnClusterTests : RedisExactSetCases
{
    protected override async Task<ITestRedis> StartRedisAsync() => await RedisClusterProcess.StartAsync();
}

public sealed class RedisExactSetFailOpenTests : RedisExactSetTestBase
{
    protected override void Configure(Dictionary<string, string?> config) => config["Edge:Revocation:FailClosed"] = "false";

    [RedisFact]
    public async Task With_FailClosed_false_an_unverifiable_filter_positive_is_let_through()
    {
        var token = Mint("sess_open");
        await RevokeAsync("sess_open");
        Redis.Kill();
        ForgetCachedAnswers();
        Assert.Equal(HttpStatusCode.OK, (await Call(token)).Status); // the operator chose availability over revocation
    }
}
