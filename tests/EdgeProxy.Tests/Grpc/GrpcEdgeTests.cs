using System.Security.Cryptography.X509Certificates;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Configuration;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.Grpc;

/// <summary>
/// A real Grpc.AspNetCore upstream behind the edge, which listens on an h2c endpoint (Kestrel <c>Protocols = Http2</c>)
/// and a TLS endpoint (a certificate made in-process); real Grpc.Net.Client channels call through both.
/// </summary>
public sealed class GrpcWorld : IAsyncLifetime
{
    private readonly GrpcUpstream _grpc = new();

    public RecordingUpstream Upstream { get; } = new();
    public JwksServer Jwks { get; } = new();
    public TestKey Key { get; } = TestKey.Es256("key-1");
    internal X509Certificate2 Certificate { get; } = TestCertificate.Create();
    public EdgeTestHost Edge { get; private set; } = null!;
    public string H2cUrl { get; private set; } = "";
    public string TlsUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Upstream.StartAsync();
        await Jwks.StartAsync();
        Jwks.Publish(Key);
        await _grpc.StartAsync();
        var config = EdgeTestHost.DefaultConfig(Upstream.Url, Jwks.JwksUrl);
        config["Kestrel:Endpoints:h2c:Url"] = "http://127.0.0.1:0";
        config["Kestrel:Endpoints:h2c:Protocols"] = "Http2";
        config["Kestrel:Endpoints:tls:Url"] = "https://127.0.0.1:0";
        Route(config, "grpc-open", EchoContract.Open);
        Route(config, "grpc-admin", EchoContract.Admin);
        config["ReverseProxy:Routes:grpc-admin:Metadata:Authio.Scopes"] = "admin:things";
        Route(config, "grpc-limited", EchoContract.Limited);
        config["ReverseProxy:Routes:grpc-limited:Metadata:Authio.RateLimit"] = "1/1m per subject";
        config["ReverseProxy:Clusters:grpc:Destinations:d1:Address"] = _grpc.Url;
        // The upstream speaks h2c: HTTP/2 with prior knowledge, never a downgrade.
        config["ReverseProxy:Clusters:grpc:HttpRequest:Version"] = "2";
        config["ReverseProxy:Clusters:grpc:HttpRequest:VersionPolicy"] = "RequestVersionExact";
        Edge = await EdgeTestHost.StartAsync(config, builder =>
            builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(https => https.ServerCertificate = Certificate)));
        var addresses = Edge.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        H2cUrl = addresses.Single(a => a.StartsWith("http://", StringComparison.Ordinal));
        TlsUrl = addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal));
    }

    private static void Route(Dictionary<string, string?> config, string id, string service)
    {
        config[$"ReverseProxy:Routes:{id}:ClusterId"] = "grpc";
        config[$"ReverseProxy:Routes:{id}:Match:Path"] = $"/{service}/{{**method}}";
    }

    /// <summary>A channel to the edge over h2c or TLS; the TLS one trusts exactly the test certificate.</summary>
    public GrpcChannel Channel(string transport)
    {
        var thumbprint = Certificate.GetCertHashString();
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString() == thumbprint;
        return GrpcChannel.ForAddress(transport == "tls" ? TlsUrl : H2cUrl, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    public string Mint(string sub, string scope = "read:things") => Jwt.Mint(Key, Edge.Time.GetUtcNow(), sub, "org_1", scope);

    public async Task DisposeAsync()
    {
        await Edge.DisposeAsync();
        await _grpc.DisposeAsync();
        await Jwks.DisposeAsync();
        await Upstream.DisposeAsync();
        Certificate.Dispose();
    }
}

public sealed class GrpcEdgeTests(GrpcWorld world) : IClassFixture<GrpcWorld>
{
    private static Metadata Bearer(string? token) => token is null ? [] : new Metadata { { "authorization", "Bearer " + token } };

    private static async Task<string> EchoAsync(GrpcChannel channel, string service, string? token, string message = "hi") =>
        await channel.CreateCallInvoker().AsyncUnaryCall(EchoContract.Echo(service), null, new CallOptions(Bearer(token)), message);

    private static async Task<List<string>> CountAsync(GrpcChannel channel, string service, string? token, int n)
    {
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(EchoContract.Count(service), null, new CallOptions(Bearer(token)), n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var received = new List<string>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            received.Add(call.ResponseStream.Current);
        }
        return received;
    }

    [Theory]
    [InlineData("h2c")]
    [InlineData("tls")]
    public async Task Unary_and_server_streaming_calls_with_a_valid_token_reach_the_upstream(string transport)
    {
        using var channel = world.Channel(transport);
        var token = world.Mint("grpc-ok-" + transport);

        Assert.Equal($"hello|grpc-ok-{transport}", await EchoAsync(channel, EchoContract.Open, token, "hello"));
        Assert.Equal(["0", "1", "2", "3", "4"], await CountAsync(channel, EchoContract.Open, token, 5));
    }

    [Theory]
    [InlineData("h2c")]
    [InlineData("tls")]
    public async Task A_missing_or_invalid_token_ends_the_call_unauthenticated_with_the_error_code(string transport)
    {
        using var channel = world.Channel(transport);
        var expired = Jwt.Sign(world.Key, Jwt.Header(world.Key),
            Jwt.Claims(world.Edge.Time.GetUtcNow().AddHours(-1), "grpc-expired", exp: world.Edge.Time.GetUtcNow().AddMinutes(-10).ToUnixTimeSeconds()));

        var missing = await Assert.ThrowsAsync<RpcException>(() => EchoAsync(channel, EchoContract.Open, null));
        var invalid = await Assert.ThrowsAsync<RpcException>(() => EchoAsync(channel, EchoContract.Open, "not.a.token"));
        var late = await Assert.ThrowsAsync<RpcException>(() => EchoAsync(channel, EchoContract.Open, expired));
        var streaming = await Assert.ThrowsAsync<RpcException>(() => CountAsync(channel, EchoContract.Open, null, 3));

        Assert.Equal((StatusCode.Unauthenticated, "unauthorized"), (missing.StatusCode, missing.Status.Detail));
        Assert.Equal((StatusCode.Unauthenticated, "unauthorized"), (invalid.StatusCode, invalid.Status.Detail));
        Assert.Equal((StatusCode.Unauthenticated, "token_expired"), (late.StatusCode, late.Status.Detail));
        Assert.Equal((StatusCode.Unauthenticated, "unauthorized"), (streaming.StatusCode, streaming.Status.Detail));
    }

    [Theory]
    [InlineData("h2c")]
    [InlineData("tls")]
    public async Task A_token_without_the_routes_scope_is_permission_denied(string transport)
    {
        using var channel = world.Channel(transport);

        var denied = await Assert.ThrowsAsync<RpcException>(() => EchoAsync(channel, EchoContract.Admin, world.Mint("grpc-scope-" + transport)));
        var streamDenied = await Assert.ThrowsAsync<RpcException>(() => CountAsync(channel, EchoContract.Admin, world.Mint("grpc-scope-" + transport), 2));

        Assert.Equal((StatusCode.PermissionDenied, "forbidden"), (denied.StatusCode, denied.Status.Detail));
        Assert.Equal(StatusCode.PermissionDenied, streamDenied.StatusCode);
        Assert.Equal("ok|grpc-admin-" + transport, await EchoAsync(channel, EchoContract.Admin, world.Mint("grpc-admin-" + transport, "admin:things"), "ok"));
    }

    [Theory]
    [InlineData("h2c")]
    [InlineData("tls")]
    public async Task A_rate_limited_call_is_resource_exhausted_with_its_retry_delay(string transport)
    {
        using var channel = world.Channel(transport);
        var token = world.Mint("grpc-limited-" + transport);

        Assert.Equal("once|grpc-limited-" + transport, await EchoAsync(channel, EchoContract.Limited, token, "once"));
        var limited = await Assert.ThrowsAsync<RpcException>(() => EchoAsync(channel, EchoContract.Limited, token));

        Assert.Equal((StatusCode.ResourceExhausted, "rate_limit_exceeded"), (limited.StatusCode, limited.Status.Detail));
        var retryAfter = int.Parse(limited.Trailers.GetValue("retry-after")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal((retryAfter * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture), limited.Trailers.GetValue("grpc-retry-pushback-ms"));
    }

    [Fact]
    public async Task A_plain_http_request_on_a_grpc_route_still_gets_problem_json()
    {
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        })
        { BaseAddress = new Uri(world.TlsUrl) };

        var response = await client.GetAsync($"/{EchoContract.Open}/Echo");

        await ProblemAssert.Is(response, 401, "unauthorized");
    }

    [Fact]
    public async Task A_cleartext_endpoint_offering_http1_and_http2_stops_startup_naming_the_key()
    {
        var config = EdgeTestHost.DefaultConfig("http://127.0.0.1:1", "http://127.0.0.1:1/jwks");
        config["Kestrel:Endpoints:grpc:Url"] = "http://127.0.0.1:0";
        config["Kestrel:Endpoints:grpc:Protocols"] = "Http1AndHttp2";

        var error = await Assert.ThrowsAsync<ConfigurationException>(() => EdgeTestHost.StartAsync(config));

        Assert.Contains("Kestrel:Endpoints:grpc:Protocols", error.Message, StringComparison.Ordinal);
    }
}
