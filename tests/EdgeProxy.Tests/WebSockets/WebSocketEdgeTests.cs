using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.EdgeProxy.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.WebSockets;

/// <summary>An ASP.NET Core WebSocket echo server; it records, per path, that a connection arrived and that it ended.</summary>
public sealed class EchoWebSocketUpstream : LoopbackServer
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _ended = new();

    public Task Ended(string path) => _ended.GetOrAdd(path, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    protected override void Map(WebApplication app)
    {
        app.UseWebSockets();
        app.Run(async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }
            var path = context.Request.Path.Value!;
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                        break;
                    }
                    await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                // The edge cut the connection: that is what the tests wait for.
            }
            finally
            {
                _ = Ended(path);
                _ended[path].TrySetResult();
            }
        });
    }
}

/// <summary>An edge with a <c>/ws/</c> route to <see cref="EchoWebSocketUpstream"/>; clients connect over HTTP/1.1 or HTTP/2.</summary>
public class WebSocketWorld : EdgeWorld, IAsyncLifetime
{
    public EchoWebSocketUpstream Sockets { get; } = new();

    /// <summary>WebSockets over HTTP/2 (RFC 8441 extended CONNECT) on an h2c listener instead of HTTP/1.1 Upgrade.</summary>
    protected virtual bool Http2 => false;

    public new virtual async Task InitializeAsync()
    {
        await Sockets.StartAsync();
        await base.InitializeAsync();
    }

    protected override void Customize(Dictionary<string, string?> config)
    {
        // No skew: a token is refused, and its connection closed, exactly at its exp.
        config["Edge:Tokens:ClockSkew"] = "00:00:00";
        config["ReverseProxy:Routes:ws:ClusterId"] = "ws";
        config["ReverseProxy:Routes:ws:Match:Path"] = "/ws/{**rest}";
        config["ReverseProxy:Clusters:ws:Destinations:d1:Address"] = Sockets.Url;
        if (Http2)
        {
            config["Kestrel:Endpoints:h2c:Url"] = "http://127.0.0.1:0";
            config["Kestrel:Endpoints:h2c:Protocols"] = "Http2";
        }
    }

    public Task<ClientWebSocket> ConnectAsync(string path, string token) => ConnectWithAsync(path, "Bearer " + token);

    public async Task<ClientWebSocket> ConnectWithAsync(string path, string authorization)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", authorization);
        var url = new Uri(new Uri(Edge.Client.BaseAddress!.ToString().Replace("http://", "ws://", StringComparison.Ordinal)), path);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        if (Http2)
        {
            socket.Options.HttpVersion = System.Net.HttpVersion.Version20;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            await socket.ConnectAsync(url, new HttpMessageInvoker(new SocketsHttpHandler()), timeout.Token);
        }
        else
        {
            await socket.ConnectAsync(url, timeout.Token);
        }
        return socket;
    }

    /// <summary>A token with the given claims; <paramref name="session"/> replaces the default sid.</summary>
    public string Token(string sub, long exp, string session = "sess_1") =>
        Jwt.Sign(Key, Jwt.Header(Key), Jwt.Claims(Now, sub, exp: exp).Replace("\"sess_1\"", $"\"{session}\"", StringComparison.Ordinal));

    public static string TokenId(string token) =>
        JsonDocument.Parse(Jwt.B64Decode(token.Split('.')[1])).RootElement.GetProperty("jti").GetString()!;

    public new virtual async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Sockets.DisposeAsync();
    }
}

public sealed class Http2WebSocketWorld : WebSocketWorld
{
    protected override bool Http2 => true;
}

public sealed class WebSocketEdgeTests(WebSocketWorld world) : WebSocketEdgeTestsBase(world), IClassFixture<WebSocketWorld>;

/// <summary>The same behaviour for WebSockets over HTTP/2 (extended CONNECT), which YARP forwards as an HTTP/1.1 upgrade.</summary>
public sealed class Http2WebSocketEdgeTests(Http2WebSocketWorld world) : WebSocketEdgeTestsBase(world), IClassFixture<Http2WebSocketWorld>;

public abstract class WebSocketEdgeTestsBase(WebSocketWorld world)
{
    internal static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    internal static async Task<string> EchoAsync(ClientWebSocket socket, string text)
    {
        using var timeout = new CancellationTokenSource(Generous);
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal(WebSocketMessageType.Text, received.MessageType);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }

    /// <summary>Waits (generously) for the edge's close frame.</summary>
    internal static async Task<(WebSocketCloseStatus? Status, string? Reason)> ClosedAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(Generous);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal(WebSocketMessageType.Close, received.MessageType);
        return (received.CloseStatus, received.CloseStatusDescription);
    }

    [Fact]
    public async Task Messages_flow_until_the_token_expires_then_the_edge_closes_with_1008_token_expired()
    {
        var token = world.Token("ws-expiring", world.Now.AddSeconds(2).ToUnixTimeSeconds());
        using var socket = await world.ConnectAsync("/ws/expiring", token);

        Assert.Equal("hello", await EchoAsync(socket, "hello"));
        world.Edge.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("still valid", await EchoAsync(socket, "still valid"));
        world.Edge.Time.Advance(TimeSpan.FromSeconds(1.5));

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "token_expired"), await ClosedAsync(socket));
        // Both sides end: the upstream's connection is gone too.
        await world.Sockets.Ended("/ws/expiring").WaitAsync(Generous);
    }

    [Theory]
    [InlineData("jti")]
    [InlineData("sid")]
    [InlineData("user-not-before")]
    public async Task A_revocation_reaching_the_edge_closes_the_connection_it_covers_and_no_other(string kind)
    {
        var exp = world.Now.AddHours(1).ToUnixTimeSeconds();
        var victimToken = world.Token("ws-victim-" + kind, exp, session: "sess-victim-" + kind);
        using var victim = await world.ConnectAsync("/ws/victim-" + kind, victimToken);
        using var bystander = await world.ConnectAsync("/ws/bystander-" + kind, world.Token("ws-bystander-" + kind, exp, session: "sess-bystander-" + kind));
        Assert.Equal("before", await EchoAsync(victim, "before"));

        var now = world.Now.ToUnixTimeSeconds();
        var revoked = kind switch
        {
            "jti" => new RevokedId(RevocationKind.TokenId, WebSocketWorld.TokenId(victimToken), exp),
            "sid" => new RevokedId(RevocationKind.SessionId, "sess-victim-" + kind, exp),
            // "Sign out everywhere" in org_1: tokens of the user issued before now + 1 s.
            _ => new RevokedId(RevocationKind.UserNotBefore, "ws-victim-" + kind, exp, NotBeforeUnix: now + 1, Org: "org_1"),
        };
        var stage = world.Edge.Services.GetRequiredService<RevocationStage>();
        stage.Apply([revoked], stage.Current.Sequence + 1);

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "unauthorized"), await ClosedAsync(victim));
        await world.Sockets.Ended("/ws/victim-" + kind).WaitAsync(Generous);
        Assert.Equal("unaffected", await EchoAsync(bystander, "unaffected"));
    }

    [Fact]
    public async Task A_user_not_before_in_another_org_leaves_the_connection_open()
    {
        var exp = world.Now.AddHours(1).ToUnixTimeSeconds();
        using var socket = await world.ConnectAsync("/ws/other-org", world.Token("ws-other-org", exp));
        var stage = world.Edge.Services.GetRequiredService<RevocationStage>();

        stage.Apply([new RevokedId(RevocationKind.UserNotBefore, "ws-other-org", exp, NotBeforeUnix: world.Now.ToUnixTimeSeconds() + 1, Org: "org_2")],
            stage.Current.Sequence + 1);

        // The re-check has run once the next revocation change is seen; the connection still echoes.
        stage.Apply([new RevokedId(RevocationKind.TokenId, "unrelated", exp)], stage.Current.Sequence + 1);
        Assert.Equal("open", await EchoAsync(socket, "open"));
    }

    [Fact]
    public async Task A_revoked_token_cannot_open_a_connection()
    {
        var token = world.Token("ws-pre-revoked", world.Now.AddHours(1).ToUnixTimeSeconds());
        var stage = world.Edge.Services.GetRequiredService<RevocationStage>();
        stage.Apply([new RevokedId(RevocationKind.TokenId, WebSocketWorld.TokenId(token), world.Now.AddHours(1).ToUnixTimeSeconds())], stage.Current.Sequence + 1);

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => world.ConnectAsync("/ws/pre-revoked", token));

        Assert.Contains("401", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connections_are_untracked_when_they_end()
    {
        var live = world.Edge.Services.GetRequiredService<LiveConnections>();
        var socket = await world.ConnectAsync("/ws/untracked", world.Token("ws-untracked", world.Now.AddHours(1).ToUnixTimeSeconds()));
        Assert.Equal("x", await EchoAsync(socket, "x"));

        using (var timeout = new CancellationTokenSource(Generous))
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
        }
        socket.Dispose();
        await world.Sockets.Ended("/ws/untracked").WaitAsync(Generous);

        // A class's tests run one at a time and dispose their sockets: every connection ends and leaves the registry.
        for (var i = 0; i < 200 && live.Count > 0; i++)
        {
            await Task.Delay(25);
        }
        Assert.Equal(0, live.Count);
    }
}
