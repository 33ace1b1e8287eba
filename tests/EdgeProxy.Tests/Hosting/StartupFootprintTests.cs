using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Authio.EdgeProxy.Tests.Hosting;

/// <summary>
/// The edge does not load Data Protection's key ring at start-up (YARP registers it for affinity cookies only), and a
/// route with cookie session affinity still gets a protected affinity cookie that routes the next request.
/// </summary>
public sealed class StartupFootprintTests : IAsyncLifetime
{
    private sealed class World : EdgeWorld
    {
        protected override void Customize(Dictionary<string, string?> config)
        {
            config["ReverseProxy:Clusters:up:SessionAffinity:Enabled"] = "true";
            config["ReverseProxy:Clusters:up:SessionAffinity:Policy"] = "Cookie";
            config["ReverseProxy:Clusters:up:SessionAffinity:AffinityKeyName"] = ".Edge.Affinity";
        }
    }

    private readonly World _world = new();

    public Task InitializeAsync() => _world.InitializeAsync();

    public Task DisposeAsync() => _world.DisposeAsync();

    [Fact]
    public async Task No_key_ring_is_loaded_at_start_and_affinity_cookies_still_work()
    {
        var hosted = _world.Edge.Services.GetServices<IHostedService>().Select(s => s.GetType().FullName).ToArray();
        Assert.DoesNotContain("Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService", hosted);

        using var first = await _world.Edge.GetAsync("/api/x", _world.Mint());
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var cookie = Assert.Single(first.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".Edge.Affinity=", StringComparison.Ordinal));
        var value = cookie.Split(';')[0];
        Assert.True(value.Length > ".Edge.Affinity=".Length + 16, "the affinity value is protected, not the bare destination id");

        using var second = await _world.Edge.GetAsync("/api/x", _world.Mint(), r => r.Headers.Add("Cookie", value));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.False(second.Headers.Contains("Set-Cookie"), "a valid affinity cookie is honoured, not replaced");
    }
}
