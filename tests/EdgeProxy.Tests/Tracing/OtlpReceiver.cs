using System.Collections.Concurrent;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Authio.EdgeProxy.Tests.Tracing;

/// <summary>
/// A minimal OTLP/HTTP trace receiver: records every protobuf body POSTed to <c>/v1/traces</c> and answers 200 with an
/// empty ExportTraceServiceResponse. Tests look for raw bytes (trace ids, span names, attribute keys) in the bodies.
/// </summary>
public sealed class OtlpReceiver : LoopbackServer
{
    public ConcurrentQueue<(string ContentType, byte[] Body)> Exports { get; } = new();

    protected override void Map(WebApplication app) => app.MapPost("/v1/traces", async (HttpContext context) =>
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        Exports.Enqueue((context.Request.ContentType ?? "", body.ToArray()));
        context.Response.ContentType = "application/x-protobuf";
    });

    /// <summary>Waits (bounded) for an export whose body holds every one of <paramref name="needles"/>.</summary>
    public async Task<bool> WaitForAsync(params byte[][] needles)
    {
        for (var i = 0; i < 300; i++)
        {
            if (Exports.Any(e => needles.All(n => e.Body.AsSpan().IndexOf(n) >= 0)))
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }
}
