using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
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
}
