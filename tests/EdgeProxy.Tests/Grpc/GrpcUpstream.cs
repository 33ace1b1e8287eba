using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Authio.EdgeProxy.Tests.Grpc;

/// <summary>
/// The test service's wire contract, written by hand (UTF-8 string messages through <c>Marshallers.Create</c>):
/// no .proto codegen, so no protoc at build time. The same two methods are served under several service names, one per
/// edge route policy.
/// </summary>
internal static class EchoContract
{
    public const string Open = "authio.test.Echo";
    public const string Admin = "authio.test.Admin";
    public const string Limited = "authio.test.Limited";

    private static readonly Marshaller<string> Utf8 = Marshallers.Create(s => Encoding.UTF8.GetBytes(s), Encoding.UTF8.GetString);

    public static Method<string, string> Echo(string service) => new(MethodType.Unary, service, "Echo", Utf8, Utf8);

    /// <summary>Streams "0" … "n-1" for a request "n".</summary>
    public static Method<string, string> Count(string service) => new(MethodType.ServerStreaming, service, "Count", Utf8, Utf8);
}

internal sealed class EchoService
{
    /// <summary>Answers with the request and the subject the edge vouched for, so a test sees what the upstream received.</summary>
    public Task<string> Echo(string request, ServerCallContext context) =>
        Task.FromResult($"{request}|{context.RequestHeaders.GetValue("x-authio-subject")}");

    public async Task Count(string request, IServerStreamWriter<string> writer, ServerCallContext context)
    {
        for (var i = 0; i < int.Parse(request, System.Globalization.CultureInfo.InvariantCulture); i++)
        {
            await writer.WriteAsync(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}

internal sealed class EchoMethods : IServiceMethodProvider<EchoService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<EchoService> context)
    {
        foreach (var service in new[] { EchoContract.Open, EchoContract.Admin, EchoContract.Limited })
        {
            context.AddUnaryMethod(EchoContract.Echo(service), [], (svc, request, call) => svc.Echo(request, call));
            context.AddServerStreamingMethod(EchoContract.Count(service), [], (svc, request, writer, call) => svc.Count(request, writer, call));
        }
    }
}

/// <summary>A real Grpc.AspNetCore server on an h2c (HTTP/2 prior knowledge) loopback listener.</summary>
internal sealed class GrpcUpstream : IAsyncDisposable
{
    private WebApplication? _app;

    public string Url { get; private set; } = "";

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<IServiceMethodProvider<EchoService>, EchoMethods>();
        _app = builder.Build();
        _app.MapGrpcService<EchoService>();
        await _app.StartAsync();
        Url = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

/// <summary>A self-signed server certificate for 127.0.0.1, made in-process (no files, no dev-cert store).</summary>
internal static class TestCertificate
{
    public static X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Re-imported from PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
