using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Authio.EdgeProxy.Tests.Infrastructure;

/// <summary>A real Kestrel server on 127.0.0.1 with a random port.</summary>
public abstract class LoopbackServer : IAsyncDisposable
{
    private WebApplication? _app;

    public string Url { get; private set; } = "";

    protected abstract void Map(WebApplication app);

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        Map(_app);
        await _app.StartAsync();
        Url = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>The upstream behind the edge: records every request it receives, so tests can assert what got through.</summary>
public sealed class RecordingUpstream : LoopbackServer
{
    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    public ReceivedRequest Last => Received.Last();

    protected override void Map(WebApplication app) => app.Run(async context =>
    {
        Received.Enqueue(new ReceivedRequest(
            context.Request.Path.Value ?? "",
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
        await context.Response.WriteAsync("upstream-ok");
    });
}

public sealed record ReceivedRequest(string Path, Dictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>A JWKS endpoint whose document, availability and fetch count the test controls.</summary>
public sealed class JwksServer : LoopbackServer
{
    private volatile string _document = "{\"keys\":[]}";
    private int _fetches;

    public volatile bool Down;

    /// <summary>What the endpoint answers while <see cref="Down"/>.</summary>
    public volatile int DownStatus = 503;

    public int Fetches => Volatile.Read(ref _fetches);

    public string JwksUrl => Url + "/jwks.json";

    public void Publish(params TestKey[] keys) => _document = TestKey.Jwks(keys);

    public void PublishRaw(string json) => _document = json;

    protected override void Map(WebApplication app) => app.MapGet("/jwks.json", (HttpContext context) =>
    {
        Interlocked.Increment(ref _fetches);
        return Down ? Results.StatusCode(DownStatus) : Results.Content(_document, "application/json");
    });
}
