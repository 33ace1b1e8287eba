using System.IO.Compression;
using System.Text;
using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Admin;

/// <summary>
/// The admin listener's /metrics: the OpenTelemetry exporter's exposition, with the edge's own per-request histograms
/// (<see cref="EdgeMetrics.Histograms"/>, <see cref="DurationHistogram"/>) written into it, in the format the exporter
/// chose for the scraper (Prometheus text, or OpenMetrics, whose closing <c># EOF</c> stays last).
/// </summary>
internal static class MetricsExposition
{
    private const string EndOfExposition = "# EOF\n";

    public static void UseEdgeHistograms(this WebApplication app, EdgeMetrics metrics, string path)
    {
        app.Use(async (context, next) =>
        {
            // Matched as routing matches the exporter's endpoint: any case, an optional trailing slash.
            if (!context.Request.Path.StartsWithSegments(path, StringComparison.OrdinalIgnoreCase, out var rest) || rest.Value is not ("" or "/" or null))
            {
                await next(context);
                return;
            }
            var response = context.Response;
            // The exporter compresses when asked to; the families are added to its text, then compressed here.
            var gzip = context.Request.Headers.AcceptEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase);
            context.Request.Headers.AcceptEncoding = default;
            var body = response.Body;
            using var buffer = new MemoryStream();
            response.Body = buffer;
            try
            {
                await next(context);
            }
            finally
            {
                response.Body = body;
            }
            if (response.StatusCode == StatusCodes.Status200OK)
            {
                var openMetrics = response.ContentType?.Contains("openmetrics", StringComparison.OrdinalIgnoreCase) == true;
                var text = new StringBuilder(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
                var closed = text.Length >= EndOfExposition.Length
                    && text.ToString(text.Length - EndOfExposition.Length, EndOfExposition.Length) == EndOfExposition;
                if (closed)
                {
                    text.Length -= EndOfExposition.Length;
                }
                foreach (var histogram in metrics.Histograms)
                {
                    histogram.WriteTo(text, openMetrics, EdgeMetrics.MeterName);
                }
                if (closed)
                {
                    text.Append(EndOfExposition);
                }
                buffer.SetLength(0);
                if (gzip)
                {
                    using var compressed = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true);
                    compressed.Write(Encoding.UTF8.GetBytes(text.ToString()));
                    response.Headers.ContentEncoding = "gzip";
                }
                else
                {
                    buffer.Write(Encoding.UTF8.GetBytes(text.ToString()));
                }
            }
            response.ContentLength = buffer.Length;
            await body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
        });
    }
}
