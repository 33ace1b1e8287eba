using System.Net;
using System.Net.Sockets;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Pipeline;

/// <summary>Two clusters of the same two destinations, one of them refusing connections: one with passive health checks on, one without.</summary>
public sealed class PassiveHealthWorld : EdgeWorld
{
    protected override void Customize(Dictionary<string, string?> config)
    {
        var dead = $"http://127.0.0.1:{UnusedPort()}/";
        foreach (var (name, passive) in new[] { ("checked", true), ("unchecked", false) })
        {
            config[$"ReverseProxy:Routes:{name}:ClusterId"] = name;
            config[$"ReverseProxy:Routes:{name}:Match:Path"] = $"/{name}/{{**rest}}";
            config[$"ReverseProxy:Routes:{name}:Metadata:Authio.Anonymous"] = "true";
            config[$"ReverseProxy:Clusters:{name}:LoadBalancingPolicy"] = "RoundRobin";
            config[$"ReverseProxy:Clusters:{name}:Destinations:up:Address"] = Upstream.Url;
            config[$"ReverseProxy:Clusters:{name}:Destinations:dead:Address"] = dead;
            if (passive)
            {
                config[$"ReverseProxy:Clusters:{name}:HealthCheck:Passive:Enabled"] = "true";
                config[$"ReverseProxy:Clusters:{name}:HealthCheck:Passive:Policy"] = "TransportFailureRate";
                config[$"ReverseProxy:Clusters:{name}:HealthCheck:Passive:ReactivationPeriod"] = "00:10:00";
            }
        }
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>YARP's passive health checks still act on a cluster that enables them, and only there.</summary>
public sealed class PassiveHealthTests(PassiveHealthWorld world) : IClassFixture<PassiveHealthWorld>
{
    private async Task<List<HttpStatusCode>> SendAsync(string route, int count)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var response = await world.Edge.GetAsync($"/{route}/x");
            statuses.Add(response.StatusCode);
        }
        return statuses;
    }

    [Fact]
    public async Task A_cluster_with_passive_checks_stops_sending_to_a_destination_that_refuses_connections()
    {
        // The transport-failure policy judges a destination after 10 requests to it in its window; round robin sends every other one there.
        var statuses = await SendAsync("checked", 40);
        Assert.Contains(HttpStatusCode.BadGateway, statuses.Take(20));
        Assert.All(statuses.Skip(25), status => Assert.Equal(HttpStatusCode.OK, status));
    }

    [Fact]
    public async Task A_cluster_without_them_keeps_sending_to_it()
    {
        var statuses = await SendAsync("unchecked", 40);
        Assert.True(statuses.Skip(25).Count(status => status == HttpStatusCode.BadGateway) >= 5, string.Join(",", statuses));
    }
}
