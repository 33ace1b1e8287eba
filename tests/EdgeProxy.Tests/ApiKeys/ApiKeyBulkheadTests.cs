using System.Net;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Hosting;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.ApiKeys;
using Authio.Shared.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Authio.EdgeProxy.Tests.ApiKeys;

/// <summary>
/// A flood of random, checksum-valid API keys: the control plane never sees more than the bulkhead's concurrent
/// lookups, refusals beyond the queue are immediate 401s, one digest is one lookup, and real keys work afterwards.
/// </summary>
public sealed class ApiKeyBulkheadTests : IAsyncLifetime
{
    private sealed class World(FakeControlPlane controlPlane) : EdgeWorld
    {
        protected override void Customize(Dictionary<string, string?> config)
        {
            config["Edge:ControlPlane:Url"] = controlPlane.Url;
            config["Edge:ControlPlane:ApiKey"] = controlPlane.EdgeKey;
            config["Edge:ApiKeys:MaxConcurrentLookups"] = "4";
            config["Edge:ApiKeys:LookupQueue"] = "8";
            config["Edge:ApiKeys:LookupTimeout"] = "00:00:30";
        }
    }

    private readonly FakeControlPlane _controlPlane = new();
    private World _world = null!;

    public async Task InitializeAsync()
    {
        await _controlPlane.StartAsync();
        _world = new World(_controlPlane);
        await _world.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        _controlPlane.Hold?.TrySetResult();
        await _world.DisposeAsync();
        await _controlPlane.DisposeAsync();
    }

    [Fact]
    public async Task A_random_key_flood_never_puts_more_than_the_limit_on_the_control_plane()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _controlPlane.Hold = hold;
        var flood = Enumerable.Range(0, 60).Select(_ => _world.Edge.GetAsync("/api/x", ApiKeyFormat.Generate(ApiKeyEnvironment.Live))).ToArray();

        // 4 in flight + 8 queued; the other 48 are refused at once, while the control plane still holds the 4.
        for (var i = 0; i < 400 && flood.Count(t => t.IsCompleted) < 48; i++)
        {
            await Task.Delay(25);
        }
        var refused = flood.Where(t => t.IsCompleted).ToArray();
        Assert.Equal(48, refused.Length);
        foreach (var response in refused)
        {
            await ProblemAssert.Unverifiable(await response); // not looked up: no verdict on the key
        }
        Assert.Equal(4, _controlPlane.Lookups);

        _controlPlane.Hold = null;
        hold.SetResult();
        foreach (var response in flood.Except(refused))
        {
            await ProblemAssert.Is(await response, 401, "unauthorized"); // looked up: unknown
        }
        foreach (var response in flood)
        {
            (await response).Dispose();
        }
        Assert.Equal(12, _controlPlane.Lookups);
        Assert.True(_controlPlane.PeakInFlight <= 4, $"the control plane saw {_controlPlane.PeakInFlight} lookups at once");

        // The flood is over: a genuinely new key is looked up and accepted.
        var real = _controlPlane.Issue("key_real", "org_1", ["read:things"]);
        using var accepted = await _world.Edge.GetAsync("/api/x", real);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task A_hung_control_plane_does_not_keep_the_slots_past_the_lookup_timeout()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _controlPlane.Hold = hold;
        var stuck = Enumerable.Range(0, 12).Select(_ => _world.Edge.GetAsync("/api/x", ApiKeyFormat.Generate(ApiKeyEnvironment.Live))).ToArray();
        for (var i = 0; i < 400 && _controlPlane.Lookups < 4; i++)
        {
            await Task.Delay(25);
        }
        Assert.Equal(4, _controlPlane.Lookups);
        // Every request in the bulkhead before the clock moves: one still on its way in would start its timeout after
        // the jump, on a clock that then stands still.
        var bulkhead = _world.Edge.Services.GetRequiredService<ApiKeyAuthenticator>().Bulkhead;
        for (var i = 0; i < 400 && bulkhead.Admitted < 12; i++)
        {
            await Task.Delay(25);
        }
        Assert.Equal(12, bulkhead.Admitted);
        Assert.DoesNotContain(stuck, t => t.IsCompleted); // 4 in flight, 8 queued

        _world.Edge.Time.Advance(TimeSpan.FromSeconds(31)); // past Edge:ApiKeys:LookupTimeout (30 s here)
        foreach (var response in stuck)
        {
            using var r = await response.WaitAsync(TimeSpan.FromSeconds(20));
            await ProblemAssert.Unverifiable(r);
        }
        Assert.Equal(4, _controlPlane.Lookups); // the queued 8 gave up without calling

        _controlPlane.Hold = null;
        hold.SetResult();
        var real = _controlPlane.Issue("key_after_hang", "org_1", ["read:things"]);
        using var accepted = await _world.Edge.GetAsync("/api/x", real);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Concurrent_requests_with_one_unknown_key_share_one_lookup()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _controlPlane.Hold = hold;
        var key = ApiKeyFormat.Generate(ApiKeyEnvironment.Live);
        var requests = Enumerable.Range(0, 20).Select(_ => _world.Edge.GetAsync("/api/x", key)).ToArray();
        for (var i = 0; i < 200 && _controlPlane.Lookups == 0; i++)
        {
            await Task.Delay(25);
        }
        await Task.Delay(200); // let the other 19 arrive and join the first lookup
        _controlPlane.Hold = null;
        hold.SetResult();
        foreach (var response in await Task.WhenAll(requests))
        {
            await ProblemAssert.Is(response, 401, "unauthorized");
            response.Dispose();
        }
        Assert.Equal(1, _controlPlane.Lookups);
    }

    [Theory]
    [InlineData("Edge:ApiKeys:MaxConcurrentLookups", "0")]
    [InlineData("Edge:ApiKeys:LookupQueue", "-1")]
    [InlineData("Edge:FailureBudget:Ipv6Prefix", "16")]
    [InlineData("Edge:FailureBudget:Ipv6Prefix", "129")]
    [InlineData("Edge:FailureBudget:NegativeCacheCapacity", "-1")]
    public void Bad_abuse_guard_configuration_stops_startup_naming_the_key(string key, string value)
    {
        var config = EdgeTestHost.DefaultConfig("http://127.0.0.1:1/", "http://127.0.0.1:1/jwks.json");
        config[key] = value;
        var error = Assert.Throws<ConfigurationException>(() => EdgeApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(config);
            b.Logging.ClearProviders();
        }));
        Assert.Contains(key, error.Message);
    }
}
