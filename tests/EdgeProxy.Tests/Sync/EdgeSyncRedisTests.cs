using System.Diagnostics;
using System.Net;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Sync;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Tests.Sync;

/// <summary>The change log through Redis Streams: revocations arrive without the control plane's HTTP feed, and the HTTP feed takes over when Redis dies.</summary>
public sealed class EdgeSyncRedisTests : IAsyncLifetime
{
    private readonly RecordingUpstream _upstream = new();
    private readonly FakeFeed _feed = new(TestKey.Es256("cp-key-r"));
    private RedisProcess _redis = null!;
    private ConnectionMultiplexer _writer = null!;
    private EdgeTestHost _edge = null!;

    public async Task InitializeAsync()
    {
        await _upstream.StartAsync();
        await _feed.StartAsync();
        _redis = await RedisProcess.StartAsync();
        _writer = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        _feed.Redis = _writer.GetDatabase();
        var config = EdgeTestHost.ControlPlaneOnlyConfig(_upstream.Url, _feed.Url, _feed.EdgeKey);
        config["Edge:Redis"] = _redis.ConnectionString;
        _edge = await EdgeTestHost.StartAsync(config);
        await _edge.WaitForSnapshotAsync();
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _writer.DisposeAsync();
        await _redis.DisposeAsync();
        await _feed.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private string Mint(string sid) => Jwt.Sign(_feed.Key, Jwt.Header(_feed.Key),
        Jwt.Claims(_edge.Time.GetUtcNow(), iss: FakeFeed.Issuer, aud: $"\"{FakeFeed.Audience}\"").Replace("\"sess_1\"", $"\"{sid}\""));

    private async Task<HttpStatusCode> Status(string token)
    {
        using var response = await _edge.GetAsync("/api/x", token);
        return response.StatusCode;
    }

    private async Task<TimeSpan> UntilRejected(string token)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (await Status(token) == HttpStatusCode.Unauthorized)
            {
                return clock.Elapsed;
            }
            _edge.Time.Advance(TimeSpan.FromMilliseconds(200)); // lets the feed's retry back-off elapse
            await Task.Delay(10);
        }
        Assert.Fail("revocation never applied");
        return default;
    }

    [RedisFact]
    public async Task Revocations_arrive_through_the_stream_without_the_http_feed()
    {
        var token = Mint("sess_stream");
        Assert.Equal(HttpStatusCode.OK, await Status(token));
        _feed.ChangesDown = true; // only Redis can deliver now
        _feed.Revoke(RevocationKinds.SessionId, "sess_stream", _edge.Time.GetUtcNow().AddHours(1).ToUnixTimeSeconds());
        await UntilRejected(token);
        Assert.Equal(HttpStatusCode.OK, await Status(Mint("sess_other")));
    }

    [RedisFact]
    public async Task Redis_killed_the_http_feed_takes_over_and_clean_traffic_never_fails()
    {
        var token = Mint("sess_after_kill");
        Assert.Equal(HttpStatusCode.OK, await Status(token));
        _redis.Kill();
        _feed.Redis = null; // the control plane can no longer publish there either
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await Status(Mint("sess_clean_" + i)));
        }
        _feed.Revoke(RevocationKinds.SessionId, "sess_after_kill", _edge.Time.GetUtcNow().AddHours(1).ToUnixTimeSeconds());
        await UntilRejected(token);
        var revocations = _edge.Services.GetRequiredService<RevocationStage>();
        Assert.Equal(1, revocations.Current.Sequence);
    }
}
