using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Authio.ControlPlane.Tests;

/// <summary>One request a <see cref="WebhookReceiver"/> got, and the status it answered.</summary>
public sealed record ReceivedWebhook(string? EventId, string? Signature, byte[] Body, int Answered)
{
    public JsonNode Json => JsonNode.Parse(Body)!;
    public bool Acknowledged => Answered is >= 200 and < 300;
}

/// <summary>
/// A real HTTP receiver on a loopback port (Kestrel): records every delivery and answers with <see cref="Answer"/>
/// (by the 1-based number of the request), 200 by default.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _count;

    private WebhookReceiver(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}/hooks";
    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();
    public Func<int, int> Answer { get; set; } = _ => 200;

    /// <summary>When set, every request waits for it (a slow receiver) before it is answered (at most 8 s).</summary>
    public TaskCompletionSource? Gate { get; set; }

    private int _concurrent;
    private int _maxConcurrent;

    /// <summary>Waiting at the gate right now.</summary>
    public int Concurrent => Volatile.Read(ref _concurrent);

    /// <summary>The most requests it has had in progress at once.</summary>
    public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

    public IEnumerable<ReceivedWebhook> Acknowledged => Received.Where(r => r.Acknowledged);

    /// <summary>Starts on <paramref name="port"/> (0: any free one).</summary>
    public static async Task<WebhookReceiver> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        WebhookReceiver? self = null;
        app.MapPost("/hooks", async (HttpContext http) =>
        {
            using var ms = new MemoryStream();
            await http.Request.Body.CopyToAsync(ms);
            var now = Interlocked.Increment(ref self!._concurrent);
            int seen;
            while (now > (seen = Volatile.Read(ref self._maxConcurrent)) && Interlocked.CompareExchange(ref self._maxConcurrent, now, seen) != seen)
            {
            }
            try
            {
                if (self.Gate is { } gate)
                {
                    await gate.Task.WaitAsync(TimeSpan.FromSeconds(8));
                }
            }
            finally
            {
                Interlocked.Decrement(ref self._concurrent);
            }
            var status = self.Answer(Interlocked.Increment(ref self._count));
            self.Received.Enqueue(new ReceivedWebhook(http.Request.Headers["Authio-Event-Id"].ToString(),
                http.Request.Headers["Authio-Signature"].ToString(), ms.ToArray(), status));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        self = new WebhookReceiver(app, bound);
        return self;
    }

    /// <summary>A loopback port nothing listens on (yet).</summary>
    /// <summary>Starts the receiver on a port <paramref name="reserved"/> held until now (released first).</summary>
    public static Task<WebhookReceiver> StartAsync(PortReservation reserved)
    {
        reserved.Dispose();
        return StartAsync(reserved.Port);
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>
    /// Waits until <paramref name="done"/> holds, moving <paramref name="time"/> on by <paramref name="step"/> between
    /// looks (so retries come due); bounded by 600 looks and 60 s of real time.
    /// </summary>
    public async Task<bool> WaitAsync(Func<WebhookReceiver, bool> done, Microsoft.Extensions.Time.Testing.FakeTimeProvider time, TimeSpan step)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        for (var i = 0; i < 600 && DateTime.UtcNow < deadline; i++)
        {
            if (done(this))
            {
                return true;
            }

            time.Advance(step);
            await Task.Delay(50);
        }

        return done(this);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// A loopback port held by a bound socket that does not listen: a connection to it is refused, as to a receiver that is
/// down, and no other listener is given the port meanwhile (a port merely found free can be, and answer 404).
/// <see cref="WebhookReceiver.StartAsync(PortReservation)"/> hands it to the receiver.
/// </summary>
public sealed class PortReservation : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public PortReservation()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    public void Dispose() => _socket.Dispose();
}
