using System.Net.WebSockets;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.ApiKeys;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static Authio.EdgeProxy.Tests.WebSockets.WebSocketEdgeTestsBase;

namespace Authio.EdgeProxy.Tests.WebSockets;

public sealed class ApiKeyWebSocketWorld : WebSocketWorld
{
    public FakeControlPlane ControlPlane { get; } = new();

    public override async Task InitializeAsync()
    {
        await ControlPlane.StartAsync();
        await base.InitializeAsync();
    }

    protected override void Customize(Dictionary<string, string?> config)
    {
        base.Customize(config);
        config["Edge:ControlPlane:Url"] = ControlPlane.Url;
        config["Edge:ControlPlane:ApiKey"] = ControlPlane.EdgeKey;
        config["Edge:WebSockets:MaxConnections"] = "3";
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await ControlPlane.DisposeAsync();
    }
}

/// <summary>Connections opened with an API key, and the bound on tracked connections.</summary>
public sealed class WebSocketApiKeyAndLimitTests(ApiKeyWebSocketWorld world) : IClassFixture<ApiKeyWebSocketWorld>
{
    [Fact]
    public async Task Revoking_the_api_key_closes_its_connection_with_1008()
    {
        var key = world.ControlPlane.Issue("key_ws_revoked", "org_1", ["read:things"]);
        using var socket = await world.ConnectWithAsync("/ws/key-revoked", "Bearer " + key);
        Assert.Equal("hi", await EchoAsync(socket, "hi"));

        var stage = world.Edge.Services.GetRequiredService<RevocationStage>();
        stage.Apply([new RevokedId(RevocationKind.ApiKey, "key_ws_revoked", world.Now.AddDays(1).ToUnixTimeSeconds())], stage.Current.Sequence + 1);

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "unauthorized"), await ClosedAsync(socket));
        await world.Sockets.Ended("/ws/key-revoked").WaitAsync(Generous);
    }

    [Fact]
    public async Task An_api_key_reaching_its_expiry_closes_its_connection_with_1008()
    {
        var key = world.ControlPlane.Issue("key_ws_expiring", "org_1", ["read:things"], expiresAt: world.Now.AddSeconds(2));
        using var socket = await world.ConnectWithAsync("/ws/key-expiring", "Bearer " + key);
        Assert.Equal("hi", await EchoAsync(socket, "hi"));

        world.Edge.Time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "unauthorized"), await ClosedAsync(socket));
    }

    [Fact]
    public async Task Beyond_max_connections_an_upgrade_is_refused_and_a_slot_frees_when_one_ends()
    {
        var token = world.Token("ws-limit", world.Now.AddHours(1).ToUnixTimeSeconds());
        // Connections of earlier tests leave the registry once the edge has finished them.
        var live = world.Edge.Services.GetRequiredService<Authio.EdgeProxy.WebSockets.LiveConnections>();
        for (var i = 0; i < 200 && live.Count > 0; i++)
        {
            await Task.Delay(25);
        }
        var open = new List<ClientWebSocket>();
        for (var i = 0; i < 3; i++)
        {
            open.Add(await world.ConnectAsync($"/ws/limit-{i}", token));
        }

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => world.ConnectAsync("/ws/limit-over", token));
        Assert.Contains("429", refused.Message, StringComparison.Ordinal);

        open[0].Abort();
        open[0].Dispose();
        await world.Sockets.Ended("/ws/limit-0").WaitAsync(Generous);
        ClientWebSocket? admitted = null;
        for (var i = 0; i < 100 && admitted is null; i++)
        {
            try
            {
                admitted = await world.ConnectAsync("/ws/limit-again", token);
            }
            catch (WebSocketException)
            {
                await Task.Delay(50); // the slot frees when the edge has finished the ended connection
            }
        }
        Assert.NotNull(admitted);
        Assert.Equal("again", await EchoAsync(admitted!, "again"));
        admitted!.Dispose();
        open.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task A_max_connections_out_of_range_stops_startup_naming_the_key()
    {
        var config = EdgeTestHost.DefaultConfig("http://127.0.0.1:1", "http://127.0.0.1:1/jwks");
        config["Edge:WebSockets:MaxConnections"] = "0";

        var error = await Assert.ThrowsAsync<ConfigurationException>(() => EdgeTestHost.StartAsync(config));

        Assert.Contains("Edge:WebSockets:MaxConnections", error.Message, StringComparison.Ordinal);
    }
}
