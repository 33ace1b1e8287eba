using System.Net;
using System.Net.Http.Headers;
using Authio.EdgeProxy.Pipeline;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Authio.EdgeProxy.Tests.Pipeline;

/// <summary>A route of its own that configures YARP's X-Forwarded transform (append), next to the default routes.</summary>
public sealed class ForwardedHeadersWorld : EdgeWorld
{
    protected override void Customize(Dictionary<string, string?> config)
    {
        config["ReverseProxy:Routes:chain:ClusterId"] = "up";
        config["ReverseProxy:Routes:chain:Match:Path"] = "/chain/{**rest}";
        config["ReverseProxy:Routes:chain:Metadata:Authio.Anonymous"] = "true";
        config["ReverseProxy:Routes:chain:Transforms:0:X-Forwarded"] = "Append";
    }
}

/// <summary>
/// The X-Forwarded-* headers the upstream receives: YARP's defaults (each set to what this hop saw, any inbound copy
/// replaced, <c>Forwarded</c> removed), written by the edge's one transform, and YARP's own transforms where a route
/// configures them.
/// </summary>
public sealed class ForwardedHeadersTests(ForwardedHeadersWorld world) : IClassFixture<ForwardedHeadersWorld>
{
    private static void SpoofForwarding(HttpRequestMessage request)
    {
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "6.6.6.6");
        request.Headers.TryAddWithoutValidation("x-forwarded-host", "evil.example");
        request.Headers.TryAddWithoutValidation("X-FORWARDED-PROTO", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Prefix", "/admin");
        request.Headers.TryAddWithoutValidation("Forwarded", "for=6.6.6.6;proto=https");
    }

    [Theory]
    [InlineData("/api/x", true)]
    [InlineData("/public/x", false)]
    public async Task The_upstream_reads_what_this_hop_saw_and_never_what_the_client_claimed(string path, bool authenticated)
    {
        var edge = world.Edge.Client.BaseAddress!;
        foreach (var spoof in new[] { false, true })
        {
            using var response = await world.Edge.GetAsync(path, authenticated ? world.Mint() : null, spoof ? SpoofForwarding : null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var received = world.Upstream.Last;
            Assert.Equal("127.0.0.1", received.Header("X-Forwarded-For"));
            Assert.Equal($"127.0.0.1:{edge.Port}", received.Header("X-Forwarded-Host"));
            Assert.Equal("http", received.Header("X-Forwarded-Proto"));
            Assert.Null(received.Header("X-Forwarded-Prefix"));
            Assert.Null(received.Header("Forwarded"));
        }
    }

    [Fact]
    public async Task A_route_that_configures_YARPs_X_Forwarded_transform_gets_it_and_only_it()
    {
        using var response = await world.Edge.GetAsync("/chain/x", configure: r => r.Headers.TryAddWithoutValidation("X-Forwarded-For", "10.1.2.3"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = world.Upstream.Last;
        // Appended, once: the edge's own transform stays off a route that configures YARP's.
        Assert.Equal("10.1.2.3, 127.0.0.1", received.Header("X-Forwarded-For"));
        Assert.Equal("http", received.Header("X-Forwarded-Proto"));
    }

    public static TheoryData<string?, string, string, string, string[]> Requests() => new()
    {
        // remote address, scheme, host, path base, headers already on the upstream request (name=value)
        { "127.0.0.1", "http", "api.example:8080", "", [] },
        { "203.0.113.9", "https", "api.example", "/base", ["X-Forwarded-For=6.6.6.6", "Forwarded=for=6.6.6.6"] },
        { "2001:db8::7", "http", "[2001:db8::1]:8443", "", ["x-forwarded-host=evil", "X-FORWARDED-PROTO=https", "X-Other=kept"] },
        { "::ffff:192.0.2.4", "https", "bücher.example", "/a b", ["X-Forwarded-Prefix=/admin", "x-forwarded-for=1.1.1.1"] },
        { null, "http", "", "", ["X-Forwarded-Method=GET"] },
        { "198.51.100.2", "http", "h", "/p%2Fq", ["forwarded=by=x", "X-Forwarded-Port=443"] },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task The_edge_transform_writes_what_YARPs_default_forwarders_write(string? remote, string scheme, string host, string pathBase, string[] present)
    {
        var yarp = await WithTransforms(YarpDefaults(), remote, scheme, host, pathBase, present);
        var edge = await WithTransforms([ForwardedHeadersTransform.Instance], remote, scheme, host, pathBase, present);
        Assert.Equal(yarp, edge);
        // Twice on one thread (the address text is remembered): the same again.
        Assert.Equal(yarp, await WithTransforms([ForwardedHeadersTransform.Instance], remote, scheme, host, pathBase, present));
    }

    private static List<RequestTransform> YarpDefaults()
    {
        var context = new TransformBuilderContext();
        context.AddXForwarded();
        return [.. context.RequestTransforms];
    }

    private static async Task<List<string>> WithTransforms(List<RequestTransform> transforms, string? remote, string scheme, string host, string pathBase, string[] present)
    {
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = remote is null ? null : IPAddress.Parse(remote);
        http.Request.Scheme = scheme;
        http.Request.Host = host.Length == 0 ? default : new HostString(host);
        http.Request.PathBase = pathBase.Length == 0 ? default : new PathString(pathBase);
        http.Request.Path = "/x";
        using var proxyRequest = new HttpRequestMessage(HttpMethod.Get, (Uri?)null);
        foreach (var header in present)
        {
            var at = header.IndexOf('=');
            proxyRequest.Headers.TryAddWithoutValidation(header[..at], header[(at + 1)..]);
        }
        var context = new RequestTransformContext
        {
            HttpContext = http,
            ProxyRequest = proxyRequest,
            DestinationPrefix = "http://upstream/",
            Path = http.Request.Path,
            HeadersCopied = true,
        };
        foreach (var transform in transforms)
        {
            await transform.ApplyAsync(context);
        }
        return Written(proxyRequest.Headers);
    }

    private static List<string> Written(HttpRequestHeaders headers) =>
        [.. headers.NonValidated.Select(h => $"{h.Key.ToLowerInvariant()}: {string.Join(" | ", h.Value)}").Order(StringComparer.Ordinal)];
}
