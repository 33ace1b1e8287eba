using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Authio.EdgeProxy.Grpc;

/// <summary>
/// gRPC needs HTTP/2. Over TLS every HTTPS listener offers it (ALPN). In cleartext (h2c) HTTP/2 must be the listener's
/// only protocol: there is no ALPN to choose between HTTP/1.1 and HTTP/2, and Kestrel then silently serves HTTP/1.1
/// alone, which a gRPC client sees as a broken connection. The idiomatic opt-in is a Kestrel endpoint
/// (<c>Kestrel:Endpoints:&lt;name&gt;:Url</c> with <c>Protocols = Http2</c>); this refuses the combinations that cannot work.
/// </summary>
internal static class GrpcListeners
{
    public const string EndpointsSection = "Kestrel:Endpoints";

    public static IReadOnlyList<string> Validate(IConfiguration configuration)
    {
        var errors = new List<string>();
        Check(configuration.GetSection("Kestrel:EndpointDefaults"), null, errors);
        foreach (var endpoint in configuration.GetSection(EndpointsSection).GetChildren())
        {
            Check(endpoint, endpoint["Url"], errors);
        }
        return errors;
    }

    private static void Check(IConfigurationSection section, string? url, List<string> errors)
    {
        var value = section["Protocols"];
        if (string.IsNullOrWhiteSpace(value))
        {
            return;
        }
        if (!Enum.TryParse<HttpProtocols>(value, ignoreCase: true, out var protocols) || !Enum.IsDefined(protocols) || protocols == HttpProtocols.None)
        {
            errors.Add($"{section.Path}:Protocols '{value}' is not one of Http1, Http2, Http1AndHttp2, Http3, Http1AndHttp2AndHttp3.");
            return;
        }
        if (url is not null && url.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            && protocols.HasFlag(HttpProtocols.Http2) && protocols != HttpProtocols.Http2)
        {
            errors.Add($"{section.Path}:Protocols '{value}' on a cleartext (http://) endpoint serves HTTP/1.1 only: use Http2 for an h2c (gRPC) listener, Http1 for plain HTTP.");
        }
    }
}
