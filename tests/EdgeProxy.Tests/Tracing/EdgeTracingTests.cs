using System.Diagnostics;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.EdgeProxy.Tests.RateLimiting;
using Authio.EdgeProxy.Tracing;
using Authio.Shared.Configuration;
using OpenTelemetry.Trace;

namespace Authio.EdgeProxy.Tests.Tracing;

/// <summary>
/// Tracing through a real edge: on (OTEL_EXPORTER_OTLP_ENDPOINT set, spans also caught by the in-memory exporter) the
/// edge joins a well-formed traceparent, records its stage span and hands the upstream the same trace id; a malformed
/// one starts a new trace; off, the upstream sees only what the client sent. A tracer provider listens process-wide,
/// so these run alone (<see cref="HeapMeasurements"/>).
/// </summary>
[Collection(nameof(HeapMeasurements))]
public sealed class EdgeTracingTests
{
    private const string ClientTraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string ClientParent = "00-" + ClientTraceId + "-b7ad6b7169203331-01";

    private sealed class World(bool tracing, string otlpEndpoint = "http://127.0.0.1:9", string? sampler = null, string? samplerArg = null) : IAsyncDisposable
    {
        public RecordingUpstream Upstream { get; } = new();
        public JwksServer Jwks { get; } = new();
        public TestKey Key { get; } = TestKey.Es256("key-1");
        public List<Activity> Spans { get; } = [];
        public EdgeTestHost Edge { get; private set; } = null!;

        // No propagation from the test's own client: what reaches the edge is exactly what the test sets.
        public HttpClient Client { get; private set; } = null!;

        public async Task StartAsync()
        {
            await Upstream.StartAsync();
            await Jwks.StartAsync();
            Jwks.Publish(Key);
            var config = EdgeTestHost.DefaultConfig(Upstream.Url, Jwks.JwksUrl);
            if (tracing)
            {
                config["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint; // by default nothing listens: export fails quietly
                config["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
                config["OTEL_BSP_SCHEDULE_DELAY"] = "100";
                if (sampler is not null)
                {
                    config["OTEL_TRACES_SAMPLER"] = sampler;
                    config["OTEL_TRACES_SAMPLER_ARG"] = samplerArg;
                }
            }
            Edge = await EdgeTestHost.StartAsync(config, builder =>
                builder.Services.ConfigureOpenTelemetryTracerProvider(provider => provider.AddInMemoryExporter(Spans)));
            Client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = Edge.Client.BaseAddress };
        }

        public Task<HttpResponseMessage> GetAsync(string path, string? token = null, string? traceparent = null)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (token is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            }
            if (traceparent is not null)
            {
                request.Headers.TryAddWithoutValidation("traceparent", traceparent);
            }
            return Client.SendAsync(request);
        }

        public string Mint() => Jwt.Mint(Key, Edge.Time.GetUtcNow(), "user_1", "org_1", "read:things");

        public Activity[] EdgeSpans()
        {
            lock (Spans)
            {
                return Spans.Where(s => s.Source.Name == EdgeTracing.SourceName && s.DisplayName == EdgeTracing.StageName).ToArray();
            }
        }

        public async Task<Activity[]> SpansOfTraceAsync(ActivityTraceId traceId, int atLeast)
        {
            for (var i = 0; i < 100; i++)
            {
                lock (Spans)
                {
                    var found = Spans.Where(s => s.TraceId == traceId).ToArray();
                    if (found.Length >= atLeast)
                    {
                        return found;
                    }
                }
                await Task.Delay(20); // the upstream's server span ends just after its response
            }
            lock (Spans)
            {
                return Spans.Where(s => s.TraceId == traceId).ToArray();
            }
        }

        public async ValueTask DisposeAsync()
        {
            Client?.Dispose();
            if (Edge is not null)
            {
                await Edge.DisposeAsync();
            }
            await Jwks.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    private static async Task<World> StartAsync(bool tracing, string? otlpEndpoint = null, string? sampler = null, string? samplerArg = null)
    {
        var world = new World(tracing, otlpEndpoint ?? "http://127.0.0.1:9", sampler, samplerArg);
        await world.StartAsync();
        return world;
    }

    private static ActivityContext ParentOf(string? traceparent)
    {
        Assert.NotNull(traceparent);
        Assert.True(ActivityContext.TryParse(traceparent, null, out var context), traceparent);
        return context;
    }

    [Fact]
    public async Task Tracing_on_joins_the_callers_trace_records_the_edge_span_and_propagates_to_the_upstream()
    {
        await using var world = await StartAsync(tracing: true);
        var token = world.Mint();

        var response = await world.GetAsync("/api/things", token, ClientParent);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);

        var upstream = ParentOf(world.Upstream.Last.Header("traceparent"));
        Assert.Equal(ClientTraceId, upstream.TraceId.ToHexString());
        Assert.NotEqual("b7ad6b7169203331", upstream.SpanId.ToHexString()); // the edge's own span, not the caller's

        var edge = Assert.Single(world.EdgeSpans());
        Assert.Equal(ClientTraceId, edge.TraceId.ToHexString());
        Assert.Equal(EdgeTracing.StageName, edge.DisplayName);
        Assert.Equal("api", edge.GetTagItem(EdgeTracing.RouteTag));
        Assert.Equal("ok", edge.GetTagItem(EdgeTracing.DecisionTag));
        Assert.Equal("jwt", edge.GetTagItem(EdgeTracing.CredentialTypeTag));
        Assert.Equal(false, edge.GetTagItem(EdgeTracing.CacheHitTag));

        // Edge server span (child of the caller's), edge stage span and forward client span: one trace, and the upstream
        // was handed the client span as its parent.
        var trace = await world.SpansOfTraceAsync(edge.TraceId, atLeast: 3);
        var server = Assert.Single(trace, s => s.Kind == ActivityKind.Server);
        Assert.Equal("b7ad6b7169203331", server.ParentSpanId.ToHexString());
        Assert.Equal("GET /api/{**rest}", server.DisplayName);
        Assert.Equal(200, server.GetTagItem("http.response.status_code"));
        Assert.Equal(server.SpanId, edge.ParentSpanId);
        var client = Assert.Single(trace, s => s.Kind == ActivityKind.Client);
        Assert.Equal(server.SpanId, client.ParentSpanId);
        Assert.Equal(client.SpanId, upstream.SpanId);

        // The same token again: answered by the cache, in a new trace of its own.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await world.GetAsync("/api/things", token)).StatusCode);
        var second = world.EdgeSpans().Last();
        Assert.Equal(true, second.GetTagItem(EdgeTracing.CacheHitTag));
        Assert.NotEqual(ClientTraceId, second.TraceId.ToHexString());
        Assert.Equal(second.TraceId, ParentOf(world.Upstream.Last.Header("traceparent")).TraceId);
    }

    [Fact]
    public async Task Tracing_on_exports_the_edge_span_over_otlp_http()
    {
        await using var receiver = new OtlpReceiver();
        await receiver.StartAsync();
        await using var world = await StartAsync(tracing: true, otlpEndpoint: receiver.Url);

        Assert.Equal(System.Net.HttpStatusCode.OK, (await world.GetAsync("/api/things", world.Mint(), ClientParent)).StatusCode);

        var traceId = Convert.FromHexString(ClientTraceId); // OTLP carries ids as raw bytes
        Assert.True(await receiver.WaitForAsync(traceId, "edge"u8.ToArray(), "authio.decision"u8.ToArray(), "authio-edge"u8.ToArray()),
            $"no OTLP export held the edge span ({receiver.Exports.Count} exports)");
        Assert.All(receiver.Exports, e => Assert.Equal("application/x-protobuf", e.ContentType));
    }

    [Fact]
    public async Task Tracing_on_leaves_the_admin_listener_out()
    {
        await using var world = await StartAsync(tracing: true);

        Assert.Equal(System.Net.HttpStatusCode.OK, (await world.Edge.Admin.GetAsync("/healthz")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await world.GetAsync("/public/x")).StatusCode);

        var edge = Assert.Single(world.EdgeSpans(), s => s.DisplayName == EdgeTracing.StageName);
        var server = Assert.Single(await world.SpansOfTraceAsync(edge.TraceId, atLeast: 3), s => s.Kind == ActivityKind.Server);
        Assert.Equal("/public/x", server.GetTagItem("url.path"));
        lock (world.Spans)
        {
            Assert.DoesNotContain(world.Spans, s => s.Kind == ActivityKind.Server && (s.GetTagItem("url.path") as string) == "/healthz");
        }
    }

    [Fact]
    public async Task Tracing_on_records_a_refusal_with_its_code_and_an_anonymous_route_as_anonymous()
    {
        await using var world = await StartAsync(tracing: true);

        await ProblemAssert.Is(await world.GetAsync("/api/things"), 401, "unauthorized");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await world.GetAsync("/public/x")).StatusCode);

        var spans = world.EdgeSpans();
        Assert.Equal(2, spans.Length);
        Assert.Equal("unauthorized", spans[0].GetTagItem(EdgeTracing.DecisionTag));
        Assert.Equal(ActivityStatusCode.Error, spans[0].Status);
        Assert.Null(spans[0].GetTagItem(EdgeTracing.CredentialTypeTag));
        Assert.Equal("public", spans[1].GetTagItem(EdgeTracing.RouteTag));
        Assert.Equal("anonymous", spans[1].GetTagItem(EdgeTracing.CredentialTypeTag));
    }

    [Theory]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01")] // all-zero trace id
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01")] // all-zero parent id
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331")] // no flags
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033zz-01")] // not hex
    [InlineData("0af7651916cd43dd8448eb211c80319c")] // not a traceparent at all
    public async Task Tracing_on_a_malformed_traceparent_starts_a_new_trace(string malformed)
    {
        await using var world = await StartAsync(tracing: true);

        var response = await world.GetAsync("/api/things", world.Mint(), malformed);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);

        var upstream = ParentOf(world.Upstream.Last.Header("traceparent"));
        Assert.NotEqual(ClientTraceId, upstream.TraceId.ToHexString());
        Assert.NotEqual(default, upstream.TraceId);
        var edge = Assert.Single(world.EdgeSpans(), s => s.DisplayName == EdgeTracing.StageName);
        Assert.Equal(upstream.TraceId, edge.TraceId);
        var trace = await world.SpansOfTraceAsync(edge.TraceId, atLeast: 3);
        Assert.Contains(trace, s => s.Kind == ActivityKind.Server && s.ParentSpanId == default); // the edge's: a root
        Assert.DoesNotContain(trace, s => s.ParentSpanId.ToHexString() == "b7ad6b7169203331");
    }

    [Fact]
    public async Task Tracing_off_adds_no_trace_context_and_passes_the_callers_through_untouched()
    {
        await using var world = await StartAsync(tracing: false);
        var token = world.Mint();

        Assert.Equal(System.Net.HttpStatusCode.OK, (await world.GetAsync("/api/things", token)).StatusCode);
        Assert.Null(world.Upstream.Last.Header("traceparent"));

        Assert.Equal(System.Net.HttpStatusCode.OK, (await world.GetAsync("/api/things", token, ClientParent)).StatusCode);
        Assert.Equal(ClientParent, world.Upstream.Last.Header("traceparent"));
        Assert.Empty(world.Spans);
    }

    [Fact]
    public async Task Tracing_on_a_request_the_sampler_drops_gets_no_span_and_its_traceparent_passes_through_untouched()
    {
        await using var world = await StartAsync(tracing: true, sampler: "parentbased_traceidratio", samplerArg: "0");
        var token = world.Mint();
        const string unsampledParent = "00-" + ClientTraceId + "-b7ad6b7169203331-00";

        Assert.Equal(System.Net.HttpStatusCode.OK, (await world.GetAsync("/api/things", token)).StatusCode);
        Assert.Null(world.Upstream.Last.Header("traceparent"));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await world.GetAsync("/api/things", token, unsampledParent)).StatusCode);
        Assert.Equal(unsampledParent, world.Upstream.Last.Header("traceparent"));

        // A caller that sampled its trace is followed whatever the ratio (parent-based), and the upstream joins it.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await world.GetAsync("/api/things", token, ClientParent)).StatusCode);
        var upstream = ParentOf(world.Upstream.Last.Header("traceparent"));
        Assert.Equal(ClientTraceId, upstream.TraceId.ToHexString());
        var trace = await world.SpansOfTraceAsync(upstream.TraceId, atLeast: 3);
        Assert.Contains(trace, s => s.Kind == ActivityKind.Client && s.SpanId == upstream.SpanId);
        lock (world.Spans)
        {
            Assert.All(world.Spans, s => Assert.Equal(ClientTraceId, s.TraceId.ToHexString()));
        }
    }

    [Theory]
    [InlineData("parentbased_traceidratio", "0", null, false)]
    [InlineData("parentbased_traceidratio", "0", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", false)]
    [InlineData("parentbased_traceidratio", "0", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true)]
    [InlineData("parentbased_traceidratio", "1", null, true)]
    [InlineData("parentbased_always_off", null, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true)]
    [InlineData("parentbased_always_off", null, null, false)]
    [InlineData("parentbased_always_on", null, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", false)]
    [InlineData("always_off", null, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", false)]
    [InlineData("always_on", null, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", true)]
    [InlineData("traceidratio", "0", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", false)]
    [InlineData("traceidratio", "1", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", true)]
    [InlineData(null, null, null, true)] // the SDK's default: parentbased_always_on
    [InlineData("parentbased_traceidratio", "0", "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01", false)] // uppercase: no parent
    public void The_sampler_follows_the_standard_sampler_variables(string? sampler, string? argument, string? traceparent, bool sampled)
    {
        var decision = new TraceSampler(sampler, argument).ShouldSample(traceparent, default, out var parent);
        Assert.Equal(sampled, decision);
        Assert.Equal(sampled && traceparent is not null && TraceSampler.IsWellFormed(traceparent), parent != default);
    }

    [Fact]
    public void Tracing_on_an_unsampled_request_allocates_nothing_for_its_decision()
    {
        var sampler = new TraceSampler("parentbased_traceidratio", "0.01");
        Microsoft.Extensions.Primitives.StringValues unsampled = "00-" + ClientTraceId + "-b7ad6b7169203331-00";
        Microsoft.Extensions.Primitives.StringValues none = default;
        var dropped = 0;
        sampler.ShouldSample(none, none, out _); // first use of the shared random
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            dropped += sampler.ShouldSample(unsampled, none, out _) ? 0 : 1;
            dropped += sampler.ShouldSample(none, none, out _) ? 0 : 1;
            EdgeTracing.EndStage(EdgeTracing.StartStage("api"), "ok", false, null); // no server span: no stage span
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.InRange(dropped, 1900, 2000); // every unsampled parent, and ~99 % of the roots
    }

    [Fact]
    public void Tracing_off_the_edge_stage_allocates_nothing()
    {
        Assert.False(new ActivitySource(EdgeTracing.SourceName).HasListeners());
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            var span = EdgeTracing.StartStage("api");
            EdgeTracing.TokenCache(hit: true);
            EdgeTracing.EndStage(span, "ok", false, null);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task A_bad_tracing_variable_stops_start_up_naming_it()
    {
        var config = EdgeTestHost.DefaultConfig("http://127.0.0.1:9", "http://127.0.0.1:9/jwks.json");
        config["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9";
        config["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio";
        config["OTEL_TRACES_SAMPLER_ARG"] = "1.5";
        var error = await Assert.ThrowsAsync<ConfigurationException>(() => EdgeTestHost.StartAsync(config));
        Assert.Contains("OTEL_TRACES_SAMPLER_ARG", error.Message);
    }
}
