using System.Net;
using System.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// The <c>X-Forwarded-*</c> headers YARP sets by default (<c>For</c>, <c>Prefix</c>, <c>Host</c>, <c>Proto</c>, each
/// replacing any inbound copy, and <c>Forwarded</c> removed), written by one transform instead of YARP's five: one pass
/// over the upstream request's headers to see whether any of them arrived (normally none: nothing to remove), then the
/// values added, the client address's text reused while it repeats. The same headers and values as YARP's defaults
/// (ForwardedHeadersTests compares the two); a route that configures its own <c>X-Forwarded</c> or <c>Forwarded</c>
/// transform keeps YARP's (UpstreamTransformerBenchmarks, bench/README.md).
/// </summary>
internal sealed class ForwardedHeadersTransform : RequestTransform
{
    private const string XForwardedFor = "X-Forwarded-For";
    private const string XForwardedPrefix = "X-Forwarded-Prefix";
    private const string XForwardedHost = "X-Forwarded-Host";
    private const string XForwardedProto = "X-Forwarded-Proto";
    private const string Forwarded = "Forwarded";
    private const string XForwardedStart = "X-Forwarded-";

    // The last client address formatted on this thread. An IPAddress keeps its own text, but an IPv4-mapped one is
    // mapped to a new address (and text) on every request; a connection's requests repeat the address, as a proxy's do.
    [ThreadStatic]
    private static IPAddress? t_lastAddress;
    [ThreadStatic]
    private static string? t_lastAddressText;

    public static readonly ForwardedHeadersTransform Instance = new();

    private ForwardedHeadersTransform()
    {
    }

    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        Apply(context.HttpContext, context.ProxyRequest.Headers);
        return default;
    }

    private static void Apply(HttpContext context, HttpRequestHeaders headers)
    {
        if (CarriesForwardingHeader(headers))
        {
            headers.Remove(XForwardedFor);
            headers.Remove(XForwardedPrefix);
            headers.Remove(XForwardedHost);
            headers.Remove(XForwardedProto);
            headers.Remove(Forwarded);
        }
        var request = context.Request;
        if (AddressText(context.Connection.RemoteIpAddress) is { } address)
        {
            headers.TryAddWithoutValidation(XForwardedFor, address);
        }
        var pathBase = request.PathBase;
        if (pathBase.HasValue)
        {
            headers.TryAddWithoutValidation(XForwardedPrefix, pathBase.ToUriComponent());
        }
        var host = request.Host;
        if (host.HasValue)
        {
            headers.TryAddWithoutValidation(XForwardedHost, host.ToUriComponent());
        }
        headers.TryAddWithoutValidation(XForwardedProto, request.Scheme);
    }

    /// <summary>Whether a header this transform replaces is already there (copied from the client, or set by a route's transform).</summary>
    private static bool CarriesForwardingHeader(HttpRequestHeaders headers)
    {
        foreach (var header in headers.NonValidated)
        {
            var name = header.Key;
            if (name.StartsWith(XForwardedStart, StringComparison.OrdinalIgnoreCase) || name.Equals(Forwarded, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The address as YARP writes it (an IPv4-mapped IPv6 address as IPv4); null without one.</summary>
    private static string? AddressText(IPAddress? address)
    {
        if (address is null)
        {
            return null;
        }
        if (address.Equals(t_lastAddress) && t_lastAddressText is { } text)
        {
            return text;
        }
        text = address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : address.ToString();
        t_lastAddressText = text;
        t_lastAddress = address;
        return text;
    }

    /// <summary>
    /// Puts this transform where YARP would add its default forwarders — on every route that configures none of its own
    /// (a route's <c>X-Forwarded</c> or <c>Forwarded</c> transform turns the defaults off, and then this stays out too).
    /// </summary>
    internal sealed class TransformProvider : ITransformProvider
    {
        public void ValidateRoute(TransformRouteValidationContext context)
        {
        }

        public void ValidateCluster(TransformClusterValidationContext context)
        {
        }

        public void Apply(TransformBuilderContext context)
        {
            if (context.UseDefaultForwarders ?? true)
            {
                // After the Host transform YARP adds to every route (it drops the copied Host), as YARP orders its own
                // defaults: the upstream request's header store then holds one entry fewer when these are added.
                if (!context.RequestTransforms.Any(transform => transform is RequestHeaderOriginalHostTransform))
                {
                    context.AddOriginalHost(false);
                }
                context.UseDefaultForwarders = false;
                context.RequestTransforms.Add(Instance);
            }
        }
    }
}
