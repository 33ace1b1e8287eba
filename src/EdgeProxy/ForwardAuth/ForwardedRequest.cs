using System.Net;
using Authio.EdgeProxy.Errors;
using Authio.Shared.Errors;
using Microsoft.AspNetCore.Http.Features;

namespace Authio.EdgeProxy.ForwardAuth;

/// <summary>
/// Turns a forward-auth check into the original request it asks about, in place: method, scheme, host, path, query and
/// client address are read from the forwarded headers and written into the request's features, so routing and every
/// edge stage see the original request. Where each proxy puts what:
/// nginx (this repository's config) and Traefik send <c>X-Forwarded-Method</c>, <c>X-Forwarded-Uri</c> (nginx also
/// <c>X-Original-URI</c>), <c>X-Forwarded-Host</c>, <c>X-Forwarded-Proto</c>, <c>X-Forwarded-For</c>; Envoy's HTTP
/// <c>ext_authz</c> sends the original method and the original path under the listener's prefix (<c>/authz/orders/1</c>),
/// and <c>x-envoy-original-path</c> when a route rewrote it.
/// </summary>
internal static class ForwardedRequest
{
    /// <summary>The listener's path prefix: every check is <c>/authz</c> or a path under it.</summary>
    public const string Prefix = "/authz";

    public const string MethodHeader = "X-Forwarded-Method";
    public const string UriHeader = "X-Forwarded-Uri";
    public const string OriginalUriHeader = "X-Original-URI";
    public const string HostHeader = "X-Forwarded-Host";
    public const string ProtoHeader = "X-Forwarded-Proto";
    public const string ForHeader = "X-Forwarded-For";
    public const string EnvoyPathHeader = "x-envoy-original-path";

    private const int MaxUriLength = 8192;

    private static EdgeError Invalid(string detail) =>
        new(400, ErrorCodes.InvalidForwardedRequest, "Invalid forwarded request", detail, null);

    public static readonly EdgeError NotACheck = new(404, ErrorCodes.NotFound, "Not found",
        "The forward-auth listener answers checks under /authz only.", null);
    private static readonly EdgeError MissingUri = Invalid(
        "The check names no original request: send X-Forwarded-Uri or X-Original-URI (or the path under /authz).");
    private static readonly EdgeError BadUri = Invalid("The forwarded URI must be an origin-form path ('/…', optional query) without control characters.");
    private static readonly EdgeError BadMethod = Invalid("X-Forwarded-Method must be one HTTP method token.");
    private static readonly EdgeError BadHost = Invalid("X-Forwarded-Host must be one host[:port].");
    private static readonly EdgeError BadProto = Invalid("X-Forwarded-Proto must be 'http' or 'https'.");
    private static readonly EdgeError BadFor = Invalid("The last X-Forwarded-For entry must be an IP address.");
    private static readonly EdgeError Repeated = Invalid("A forwarded header appears more than once.");

    /// <summary>Rewrites <paramref name="context"/> into the original request, or returns why it cannot.</summary>
    public static EdgeError? TryApply(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        // nginx and Traefik check with GET (the original method in X-Forwarded-Method); Envoy checks with the original
        // method itself, so any method is a check here.
        if (!(path.Equals(Prefix, StringComparison.OrdinalIgnoreCase) || path.StartsWith(Prefix + "/", StringComparison.OrdinalIgnoreCase)))
        {
            return NotACheck;
        }
        var headers = request.Headers;
        if (!TryOne(headers, MethodHeader, out var method) || !TryOne(headers, UriHeader, out var uri)
            || !TryOne(headers, OriginalUriHeader, out var originalUri) || !TryOne(headers, EnvoyPathHeader, out var envoyPath)
            || !TryOne(headers, HostHeader, out var host) || !TryOne(headers, ProtoHeader, out var proto))
        {
            return Repeated;
        }
        method ??= request.Method;
        if (method.Length == 0 || method.Length > 32 || !method.All(IsTokenChar))
        {
            return BadMethod;
        }
        var target = uri ?? originalUri ?? envoyPath ?? (path.Length > Prefix.Length ? path[Prefix.Length..] + request.QueryString.Value : null);
        if (target is null)
        {
            return MissingUri;
        }
        if (target.Length == 0 || target[0] != '/' || target.StartsWith("//", StringComparison.Ordinal) || target.Length > MaxUriLength
            || target.Any(c => c <= ' ' || c == 0x7F || c == '#'))
        {
            return BadUri;
        }
        if (proto is not null && !proto.Equals("http", StringComparison.OrdinalIgnoreCase) && !proto.Equals("https", StringComparison.OrdinalIgnoreCase))
        {
            return BadProto;
        }
        if (host is not null && (host.Length == 0 || host.Contains(',') || host.Any(c => c <= ' ' || c >= 0x7F || c is '/' or '@' or '?' or '#')))
        {
            return BadHost;
        }
        IPAddress? client = null;
        var forwardedFor = headers[ForHeader];
        if (forwardedFor.Count > 0)
        {
            // The rightmost entry is the address the proxy itself saw: the only one a client cannot choose.
            var last = forwardedFor[^1]!.Split(',')[^1].Trim();
            if (!TryParseAddress(last, out client))
            {
                return BadFor;
            }
        }

        var feature = context.Features.Get<IHttpRequestFeature>()!;
        var query = target.IndexOf('?');
        var rawPath = query < 0 ? target : target[..query];
        feature.Method = HttpMethods.GetCanonicalizedValue(method.ToUpperInvariant());
        feature.Scheme = proto?.ToLowerInvariant() ?? feature.Scheme;
        feature.PathBase = "";
        feature.Path = PathString.FromUriComponent(rawPath).Value ?? "/";
        feature.QueryString = query < 0 ? "" : target[query..];
        feature.RawTarget = target;
        if (host is not null)
        {
            headers.Host = host;
        }
        if (client is not null)
        {
            context.Connection.RemoteIpAddress = client;
        }
        return null;
    }

    private static bool TryOne(IHeaderDictionary headers, string name, out string? value)
    {
        var values = headers[name];
        value = values.Count == 1 ? values[0] : null;
        return values.Count <= 1;
    }

    private static bool TryParseAddress(string text, out IPAddress? address)
    {
        if (IPAddress.TryParse(text, out address))
        {
            return true;
        }
        // "1.2.3.4:5678" and "[::1]:5678" (some proxies append the port)
        return IPEndPoint.TryParse(text, out var endpoint) && (address = endpoint.Address) is not null;
    }

    private static bool IsTokenChar(char c) =>
        c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';
}
