using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Admin;

public sealed class AdminTests(EdgeWorld world) : IClassFixture<EdgeWorld>
{
    [Fact]
    public async Task Health_and_readiness()
    {
        using var health = await world.Edge.Admin.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var ready = await world.Edge.Admin.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains(Jwt.Issuer, await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Admin_endpoints_are_not_on_the_proxy_port()
    {
        using var response = await world.Edge.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_expose_decisions_latency_cache_jwks_age_and_runtime_allocations()
    {
        var token = world.Mint();
        (await world.Edge.GetAsync("/api/m", token)).Dispose();
        (await world.Edge.GetAsync("/api/m", token)).Dispose();
        (await world.Edge.GetAsync("/api/m")).Dispose();
        var text = await world.Edge.Admin.GetStringAsync("/metrics");
        Assert.Contains("authio_edge_decisions_total{", text);
        Assert.Contains("code=\"ok\"", text);
        Assert.Contains("code=\"unauthorized\"", text);
        Assert.Contains("authio_edge_authentication_duration_seconds_bucket", text);
        Assert.Contains("authio_edge_token_cache_hit_ratio", text);
        Assert.Contains("authio_edge_jwks_age_seconds", text);
        Assert.Contains("issuer=\"https://issuer.test\"", text);
        Assert.Contains("dotnet_gc_heap_total_allocated_bytes_total", text);
    }
}

public sealed class ReadinessTests
{
    [Fact]
    public async Task Not_ready_until_every_issuer_has_keys()
    {
        await using var upstream = new RecordingUpstream();
        await upstream.StartAsync();
        await using var jwks = new JwksServer { Down = true };
        await jwks.StartAsync();
        await using var edge = await EdgeTestHost.StartAsync(EdgeTestHost.DefaultConfig(upstream.Url, jwks.JwksUrl));
        using var notReady = await edge.Admin.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        using var health = await edge.Admin.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        jwks.Down = false;
        jwks.Publish(TestKey.Es256("k"));
        for (var i = 0; i < 100; i++)
        {
            edge.Time.Advance(TimeSpan.FromSeconds(5)); // the retry timer may be armed after any given advance

            using var ready = await edge.Admin.GetAsync("/readyz");
            if (ready.StatusCode == HttpStatusCode.OK)
            {
                return;
            }
            await Task.Delay(25);
        }
        Assert.Fail("edge never became ready");
    }
}
