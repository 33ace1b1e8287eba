using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Authio.EdgeProxy.Tests.Pipeline;

/// <summary>Upstreams that fail in each way the edge must answer for: silent, and answering with their own error.</summary>
public sealed class FailingUpstreamsWorld : EdgeWorld, IAsyncLifetime
{
    public SlowUpstream Slow { get; } = new();
    public OwnErrorUpstream OwnError { get; } = new();
    public int DeadPort { get; } = ChildProcess.FreePort();

    async Task IAsyncLifetime.InitializeAsync()
    {
        await Slow.StartAsync();
        await OwnError.StartAsync();
        await InitializeAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        Slow.Release.Cancel();
        await DisposeAsync();
        await Slow.DisposeAsync();
        await OwnError.DisposeAsync();
    }

    protected override void Customize(Dictionary<string, string?> config)
    {
        Route(config, "dead", "dead", anonymous: true);
        Route(config, "deadauth", "dead", anonymous: false);
        config["ReverseProxy:Clusters:dead:Destinations:d1:Address"] = $"http://127.0.0.1:{DeadPort}/";
        Route(config, "slow", "slow", anonymous: true);
        config["ReverseProxy:Clusters:slow:Destinations:d1:Address"] = Slow.Url;
        config["ReverseProxy:Clusters:slow:HttpRequest:ActivityTimeout"] = "00:00:00.300";
        Route(config, "empty", "empty", anonymous: true);
        config["ReverseProxy:Clusters:empty:LoadBalancingPolicy"] = "FirstAlphabetical";
        config["ReverseProxy:Clusters:empty:Metadata:note"] = "a cluster without destinations";
        Route(config, "getonly", "ownerror", anonymous: true);
        config["ReverseProxy:Routes:getonly:Match:Methods:0"] = "GET";
        Route(config, "ownerror", "ownerror", anonymous: true);
        config["ReverseProxy:Clusters:ownerror:Destinations:d1:Address"] = OwnError.Url;
    }

    private static void Route(Dictionary<string, string?> config, string id, string cluster, bool anonymous)
    {
        config[$"ReverseProxy:Routes:{id}:ClusterId"] = cluster;
        config[$"ReverseProxy:Routes:{id}:Match:Path"] = $"/{id}/{{**rest}}";
        if (anonymous)
        {
            config[$"ReverseProxy:Routes:{id}:Metadata:Authio.Anonymous"] = "true";
        }
    }

}

/// <summary>Accepts the request and never answers (until the test world ends).</summary>
public sealed class SlowUpstream : LoopbackServer
{
    public CancellationTokenSource Release { get; } = new();

    protected override void Map(WebApplication app) => app.Run(async context =>
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, Release.Token);
        await Task.Delay(Timeout.Infinite, linked.Token).ContinueWith(_ => { }, TaskScheduler.Default);
    });
}

/// <summary>Answers every request with its own 503 and body: an upstream's answer is never rewritten by the edge.</summary>
public sealed class OwnErrorUpstream : LoopbackServer
{
    protected override void Map(WebApplication app) => app.Run(async context =>
    {
        context.Response.StatusCode = 503;
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync("upstream maintenance page");
    });
}

/// <summary>
/// Every answer the proxy itself gives is problem+json with a stable code: unmatched route, dead upstream, slow
/// upstream, cluster without destinations; none of them names the upstream.
/// </summary>
public sealed class EdgeAnswerTests(FailingUpstreamsWorld world) : IClassFixture<FailingUpstreamsWorld>
{
    [Theory]
    [InlineData("/no-such-route")]
    [InlineData("/")]
    [InlineData("/apix/y")]
    [InlineData("/style.css")]
    public async Task An_unmatched_route_is_404_not_found(string path)
    {
        using var response = await world.Edge.GetAsync(path);
        await ProblemAssert.Is(response, 404, "not_found");
    }

    [Fact]
    public async Task An_unmatched_route_is_404_whatever_the_method_and_credential()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/no-such-route") { Content = new StringContent("{}") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer not-a-token");
        using var response = await world.Edge.Client.SendAsync(request);
        await ProblemAssert.Is(response, 404, "not_found"); // routing answers before authentication
    }

    [Fact]
    public async Task A_path_matched_with_the_wrong_method_is_405_method_not_allowed_with_allow()
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/getonly/x");
        using var response = await world.Edge.Client.SendAsync(request);
        await ProblemAssert.Is(response, 405, "method_not_allowed");
        Assert.Contains("GET", response.Content.Headers.Allow);
    }

    [Fact]
    public async Task A_dead_upstream_is_502_bad_gateway_without_upstream_details()
    {
        using var anonymous = await world.Edge.GetAsync("/dead/x");
        await AssertNoUpstreamDetails(anonymous, 502, "bad_gateway");
        using var authenticated = await world.Edge.GetAsync("/deadauth/x", world.Mint());
        await AssertNoUpstreamDetails(authenticated, 502, "bad_gateway");
    }

    [Fact]
    public async Task A_slow_upstream_is_504_upstream_timeout()
    {
        using var response = await world.Edge.GetAsync("/slow/x");
        await AssertNoUpstreamDetails(response, 504, "upstream_timeout");
    }

    [Fact]
    public async Task A_cluster_without_destinations_is_503_upstream_unavailable()
    {
        using var response = await world.Edge.GetAsync("/empty/x");
        await AssertNoUpstreamDetails(response, 503, "upstream_unavailable");
    }

    [Fact]
    public async Task An_upstreams_own_error_answer_passes_through_untouched()
    {
        using var response = await world.Edge.GetAsync("/ownerror/x");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("upstream maintenance page", await response.Content.ReadAsStringAsync());
    }

    private async Task AssertNoUpstreamDetails(HttpResponseMessage response, int status, string code)
    {
        await ProblemAssert.Is(response, status, code);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var body = await response.Content.ReadAsStringAsync();
        foreach (var detail in new[] { "127.0.0.1", "localhost", world.DeadPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     new Uri(world.Slow.Url).Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "refused", "Exception", "cluster", "d1" })
        {
            Assert.DoesNotContain(detail, body, StringComparison.OrdinalIgnoreCase);
        }
    }
}
