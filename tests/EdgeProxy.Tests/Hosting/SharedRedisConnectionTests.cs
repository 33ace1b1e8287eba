using System.Diagnostics;
using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Tests.Hosting;

/// <summary>Every Redis feature of an edge (global limits, exact revocation set, API-key L2) shares one connection.</summary>
public sealed class SharedRedisConnectionTests
{
    private const string ClientName = "edge-under-test";

    [RedisFact]
    public async Task One_edge_holds_one_redis_connection_whatever_uses_it()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new RecordingUpstream();
        await upstream.StartAsync();
        await using var jwks = new JwksServer();
        await jwks.StartAsync();
        var key = TestKey.Es256("key-1");
        jwks.Publish(key);
        var config = EdgeTestHost.DefaultConfig(upstream.Url, jwks.JwksUrl);
        config["Edge:Redis"] = $"{redis.ConnectionString},name={ClientName}";
        config["Edge:ApiKeys:CacheSigningKey"] = Convert.ToBase64String(new byte[32]);
        config["ReverseProxy:Routes:fleet:ClusterId"] = "up";
        config["ReverseProxy:Routes:fleet:Match:Path"] = "/fleet/{**rest}";
        config["ReverseProxy:Routes:fleet:Metadata:Authio.RateLimit"] = "1000/1s global";
        await using var edge = await EdgeTestHost.StartAsync(config, b => b.Services.AddSingleton(TimeProvider.System));

        var token = Jwt.Mint(key, DateTimeOffset.UtcNow, "shared-connection");
        for (var i = 0; i < 20; i++)
        {
            using var response = await edge.GetAsync("/fleet/x", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await Task.Delay(500); // leases refill in the background

        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
        var clients = await admin.GetServer(admin.GetEndPoints()[0]).ClientListAsync();
        var edgeConnections = clients.Count(c => c.Name == ClientName);
        // One multiplexer: an interactive connection and at most one for pub/sub (each feature on its own had its own pair).
        Assert.InRange(edgeConnections, 1, 2);
        var buckets = 0;
        await foreach (var _ in admin.GetServer(admin.GetEndPoints()[0]).KeysAsync(pattern: "authio:rl:*"))
        {
            buckets++;
        }
        Assert.True(buckets > 0, "the global limit leased from Redis over that connection");
    }

    [RedisFact]
    public async Task A_redis_outage_is_logged_once_however_many_features_notice_it()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var upstream = new RecordingUpstream();
        await upstream.StartAsync();
        await using var jwks = new JwksServer();
        await jwks.StartAsync();
        var key = TestKey.Es256("key-1");
        jwks.Publish(key);
        var config = EdgeTestHost.DefaultConfig(upstream.Url, jwks.JwksUrl);
        config["Edge:Redis"] = redis.ConnectionString;
        config["ReverseProxy:Routes:fleet:ClusterId"] = "up";
        config["ReverseProxy:Routes:fleet:Match:Path"] = "/fleet/{**rest}";
        config["ReverseProxy:Routes:fleet:Metadata:Authio.RateLimit"] = "1000/1s global";
        var log = new EventIdLog();
        await using var edge = await EdgeTestHost.StartAsync(config, b =>
        {
            b.Services.AddSingleton(TimeProvider.System);
            b.Logging.AddProvider(log);
        });
        var token = Jwt.Mint(key, DateTimeOffset.UtcNow, "outage");
        await DriveAsync(edge, token, TimeSpan.FromMilliseconds(500));

        // Counted from here: on a busy box a slow call may already have opened and closed the breaker once.
        var unavailableBefore = log.Count(RedisUnavailable);
        var recoveredBefore = log.Count(RedisRecovered);
        redis.Kill();
        await DriveAsync(edge, token, TimeSpan.FromSeconds(2)); // refills, probes and the connection itself all fail
        Assert.Equal(unavailableBefore + 1, log.Count(RedisUnavailable));
        Assert.Equal(recoveredBefore, log.Count(RedisRecovered));

        await redis.RestartAsync();
        var leases = edge.Services.GetRequiredService<GlobalLeases>();
        var clock = Stopwatch.StartNew();
        while (!leases.Healthy && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await DriveAsync(edge, token, TimeSpan.FromMilliseconds(250));
        }
        Assert.True(leases.Healthy, "the edge found Redis again");
        Assert.True(log.Count(RedisRecovered) > recoveredBefore, "the recovery is logged");
    }

    private const int RedisUnavailable = 3410;
    private const int RedisRecovered = 3411;

    private static async Task DriveAsync(EdgeTestHost edge, string token, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            using var response = await edge.GetAsync("/fleet/x", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Task.Delay(20);
        }
    }
}
