using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Authio.EdgeProxy.Tests.EndToEnd;
using Authio.EdgeProxy.Tests.Infrastructure;
using static Authio.EdgeProxy.Tests.WebSockets.WebSocketEdgeTestsBase;

namespace Authio.EdgeProxy.Tests.WebSockets;

/// <summary>
/// The real control plane's revocations travelling its change feed to the real edge, which closes the WebSockets they
/// cover: logout (session), logout-all (the user's not-before in the org) and API-key revocation. Over the HTTP feed,
/// and over Redis, where the edge settles bloom-filter positives in the exact set the control plane keeps there.
/// </summary>
public abstract class WebSocketRevocationEndToEndTests(bool withRedis) : ControlPlaneAndEdge(withRedis), IAsyncLifetime
{
    private readonly EchoWebSocketUpstream _sockets = new();

    public new async Task InitializeAsync()
    {
        await _sockets.StartAsync();
        await base.InitializeAsync();
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _sockets.DisposeAsync();
    }

    private protected override void ConfigureEdge(Dictionary<string, string?> config)
    {
        config["Edge:ApiKeys:CacheDuration"] = "00:10:00"; // revocation must come from the feed, not cache expiry
        config["ReverseProxy:Routes:ws:ClusterId"] = "ws";
        config["ReverseProxy:Routes:ws:Match:Path"] = "/ws/{**rest}";
        config["ReverseProxy:Clusters:ws:Destinations:d1:Address"] = _sockets.Url;
    }

    private async Task<ClientWebSocket> ConnectAsync(string path, string credential)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + credential);
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(Generous);
        try
        {
            await socket.ConnectAsync(new Uri(new Uri(Edge.Client.BaseAddress!.ToString().Replace("http://", "ws://", StringComparison.Ordinal)), path), timeout.Token);
        }
        catch (WebSocketException)
        {
            // The refusal's headers (WWW-Authenticate names the reason) say more than "401 instead of 101".
            Assert.Fail(path + ": " + string.Join("; ", socket.HttpResponseHeaders!.Select(h => h.Key + "=" + string.Join(",", h.Value))));
        }
        Assert.Equal("hello", await EchoAsync(socket, "hello"));
        return socket;
    }

    protected async Task Logout_logout_all_and_key_revocation_close_the_connections_they_cover()
    {
        var token = (await Cp.LoginAsync()).GetProperty("access_token").GetString()!;
        using var session = await ConnectAsync("/ws/session", token);
        using (var logout = await Cp.SendAsync(HttpMethod.Post, "/v1/auth/logout", token))
        {
            Assert.True(logout.IsSuccessStatusCode);
        }
        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "unauthorized"), await ClosedAsync(session));
        await _sockets.Ended("/ws/session").WaitAsync(Generous);

        var second = await Cp.AccessTokenAsync();
        using var user = await ConnectAsync("/ws/user", second);
        using (var users = await Cp.SendAsync(HttpMethod.Get, "/v1/users", second))
        {
            var list = await users.Content.ReadFromJsonAsync<JsonElement>();
            var id = (list.ValueKind == JsonValueKind.Array ? list : list.GetProperty("users")).EnumerateArray()
                .First(u => u.GetProperty("email").GetString() == RealControlPlane.AdminEmail).GetProperty("id").GetString();
            using var all = await Cp.SendAsync(HttpMethod.Post, $"/v1/users/{id}/logout-all", second);
            Assert.True(all.IsSuccessStatusCode, await all.Content.ReadAsStringAsync());
        }
        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "unauthorized"), await ClosedAsync(user));

        var admin = await Cp.AccessTokenAsync();
        var key = await Cp.CreateApiKeyAsync(admin, "ws", ["read:applications"]);
        using var keyed = await ConnectAsync("/ws/key", key.GetProperty("key").GetString()!);
        // (The admin token itself may predate the not-before of the logout-all above, which has one-second precision.)
        var other = await Cp.CreateApiKeyAsync(admin, "ws-bystander", ["read:applications"]);
        using var bystander = await ConnectAsync("/ws/bystander", other.GetProperty("key").GetString()!);
        using (var revoke = await Cp.SendAsync(HttpMethod.Delete, $"/v1/api-keys/{key.GetProperty("id").GetString()}", admin))
        {
            Assert.True(revoke.IsSuccessStatusCode);
        }
        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "unauthorized"), await ClosedAsync(keyed));
        Assert.Equal("still here", await EchoAsync(bystander, "still here"));
    }
}

public sealed class WebSocketRevocationOverHttpEndToEndTests() : WebSocketRevocationEndToEndTests(withRedis: false)
{
    [Fact]
    public Task Revocations_from_the_control_plane_close_live_websockets() => Logout_logout_all_and_key_revocation_close_the_connections_they_cover();
}

public sealed class WebSocketRevocationOverRedisEndToEndTests() : WebSocketRevocationEndToEndTests(withRedis: true)
{
    [RedisFact]
    public Task Revocations_from_the_control_plane_close_live_websockets() => Logout_logout_all_and_key_revocation_close_the_connections_they_cover();
}
