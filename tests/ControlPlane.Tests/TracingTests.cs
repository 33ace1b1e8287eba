using System.Diagnostics;
using System.Net.Http.Json;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Storage;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// Tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set; spans also caught by the in-memory exporter): an endpoint call joins
/// the caller's well-formed traceparent and its database transactions are spans of the same trace.
/// </summary>
public sealed class TracingTests
{
    private const string ClientTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    [Fact]
    public async Task An_endpoint_and_its_database_calls_share_the_callers_trace()
    {
        var dir = Path.Combine(Path.GetTempPath(), "authio-trace-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var spans = new List<Activity>();
        try
        {
            var app = ControlPlaneApp.Build(
            [
                "--urls=http://127.0.0.1:0", $"--ControlPlane:DataDirectory={dir}", "--Logging:LogLevel:Default=Warning",
                "--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9", "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
            ], s => s.ConfigureOpenTelemetryTracerProvider(provider => provider.AddInMemoryExporter(spans)));
            await using (app)
            {
                await ControlPlaneApp.PrepareAsync(app);
                await app.StartAsync();
                var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
                using var http = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = new Uri(address) };
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/login")
                {
                    Content = JsonContent.Create(new { email = "nobody@example.com", password = "wrong-password-123" }),
                };
                request.Headers.TryAddWithoutValidation("traceparent", $"00-{ClientTraceId}-00f067aa0ba902b7-01");
                var response = await http.SendAsync(request);
                Assert.Equal(401, (int)response.StatusCode);
                await app.StopAsync();
            }
            Activity[] trace;
            lock (spans)
            {
                trace = spans.Where(s => s.TraceId.ToHexString() == ClientTraceId).ToArray();
            }
            var server = Assert.Single(trace, s => s.Kind == ActivityKind.Server);
            Assert.Equal("00f067aa0ba902b7", server.ParentSpanId.ToHexString());
            var db = Assert.Single(trace.Where(s => s.Source.Name == StorageTracing.SourceName).Take(1));
            Assert.Equal("sqlite", db.GetTagItem("db.system.name"));
            Assert.False(string.IsNullOrEmpty(db.DisplayName));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}
