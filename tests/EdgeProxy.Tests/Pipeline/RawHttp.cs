using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Authio.EdgeProxy.Tests.Pipeline;

/// <summary>
/// Sends a request target byte for byte (HttpClient and Uri normalize dot segments and escapes, which is exactly
/// what these tests must not do) and reads the whole response.
/// </summary>
internal static class RawHttp
{
    public sealed record Response(int Status, string ContentType, string Body);

    public static async Task<Response> GetAsync(string baseUrl, string target, params string[] headers)
    {
        var uri = new Uri(baseUrl);
        using var client = new TcpClient();
        await client.ConnectAsync(uri.Host, uri.Port);
        var stream = client.GetStream();
        var request = new StringBuilder($"GET {target} HTTP/1.1\r\nHost: {uri.Authority}\r\nConnection: close\r\n");
        foreach (var header in headers)
        {
            request.Append(header).Append("\r\n");
        }
        request.Append("\r\n");
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request.ToString()));
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = text[..headerEnd].Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var contentType = head.Skip(1).Select(l => l.Split(':', 2)).Where(p => p[0].Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            .Select(p => p[1].Trim()).FirstOrDefault() ?? "";
        var body = text[(headerEnd + 4)..];
        if (head.Any(l => l.StartsWith("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)))
        {
            body = Dechunk(body);
        }
        return new Response(status, contentType, body);
    }

    private static string Dechunk(string body)
    {
        var result = new StringBuilder();
        var at = 0;
        while (true)
        {
            var lineEnd = body.IndexOf("\r\n", at, StringComparison.Ordinal);
            var size = Convert.ToInt32(body[at..lineEnd].Split(';')[0], 16);
            if (size == 0)
            {
                return result.ToString();
            }
            result.Append(body, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
    }
}

/// <summary>An upstream that records the raw request target it received (what it would decode), not just the path.</summary>
public sealed class RawTargetUpstream : LoopbackServer
{
    public ConcurrentQueue<(string RawTarget, string Path, Dictionary<string, string> Headers)> Received { get; } = new();

    protected override void Map(WebApplication app) => app.Run(async context =>
    {
        Received.Enqueue((context.Features.Get<IHttpRequestFeature>()!.RawTarget, context.Request.Path.Value ?? "",
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
        await context.Response.WriteAsync("upstream-ok");
    });
}
