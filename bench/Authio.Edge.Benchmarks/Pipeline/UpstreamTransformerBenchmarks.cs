using System.Net;
using Authio.EdgeProxy.Pipeline;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Authio.Edge.Benchmarks.Pipeline;

/// <summary>
/// Two steps of YARP's transformer per forwarded request against the edge's: the <c>X-Forwarded-*</c> headers through
/// YARP's five default transforms or the edge's one (<see cref="ForwardedHeadersTransform"/>, on a new upstream request
/// holding a copied header), and the response trailers of an HTTP/1.1 request, which YARP looks for (a request feature
/// that is absent: the look-up falls through to a second collection, as Kestrel's falls through to the connection's
/// features) and <see cref="UpstreamTransformer"/> skips. Set-up checks that whole transformers built by YARP's builder
/// with either write the same headers and URI. The claim: the edge's are cheaper, allocating no more.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class UpstreamTransformerBenchmarks
{
    private const string Destination = "http://127.0.0.1:18181/";
    private HttpTransformer _yarp = null!;
    private HttpTransformer _edge = null!;
    private HttpContext _context = null!;
    private HttpResponseMessage _response = null!;
    private RequestTransform[] _yarpForwarders = null!;
    private RequestTransform[] _edgeForwarders = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddReverseProxy();
        var builder = services.BuildServiceProvider().GetRequiredService<ITransformBuilder>();
        _yarp = builder.Create(_ => { });
        var provider = new ForwardedHeadersTransform.TransformProvider();
        _edge = new UpstreamTransformer(builder.Create(provider.Apply));
        var defaults = new TransformBuilderContext();
        defaults.AddXForwarded();
        _yarpForwarders = [.. defaults.RequestTransforms];
        _edgeForwarders = [ForwardedHeadersTransform.Instance];

        // A request as wrk sends it, over a connection whose own features sit behind the request's.
        var connection = new FeatureCollection();
        connection.Set<IHttpConnectionFeature>(new HttpConnectionFeature { RemoteIpAddress = IPAddress.Loopback, RemotePort = 50000 });
        var features = new FeatureCollection(connection);
        features.Set<IHttpRequestFeature>(new HttpRequestFeature { Protocol = "HTTP/1.1", Scheme = "http", Method = "GET", Path = "/api/items" });
        features.Set<IHttpResponseFeature>(new HttpResponseFeature());
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        _context = new DefaultHttpContext(features);
        _context.Request.Headers.Host = "127.0.0.1:18182";
        _context.Request.Headers.Authorization = "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln";
        _response = new HttpResponseMessage(HttpStatusCode.OK);

        var yarp = Request(_yarp);
        var edge = Request(_edge);
        if (!Written(yarp).SequenceEqual(Written(edge)) || !Written(Forward(_yarpForwarders), uri: false).SequenceEqual(Written(Forward(_edgeForwarders), uri: false)))
        {
            throw new InvalidOperationException("the two transformers wrote different headers");
        }
    }

    private static IEnumerable<string> Written(HttpRequestMessage request, bool uri = true) =>
        request.Headers.NonValidated.Select(h => $"{h.Key}: {h.Value}").Order(StringComparer.Ordinal).Append(uri ? request.RequestUri!.ToString() : "");

    private HttpRequestMessage Request(HttpTransformer transformer)
    {
        var request = new HttpRequestMessage();
        var pending = transformer.TransformRequestAsync(_context, request, Destination, CancellationToken.None);
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("a request transform went asynchronous");
        }
        return request;
    }

    [Benchmark(Baseline = true, Description = "forwarders: YARP's five")]
    public HttpRequestMessage ForwardersYarp() => Forward(_yarpForwarders);

    [Benchmark(Description = "forwarders: ForwardedHeadersTransform")]
    public HttpRequestMessage ForwardersEdge() => Forward(_edgeForwarders);

    /// <summary>The forwarders on a request holding what the copy put there, without the copy and the URI around them.</summary>
    private HttpRequestMessage Forward(RequestTransform[] transforms)
    {
        var request = new HttpRequestMessage();
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln");
        var context = new RequestTransformContext { HttpContext = _context, ProxyRequest = request, DestinationPrefix = Destination, HeadersCopied = true };
        foreach (var transform in transforms)
        {
            if (!transform.ApplyAsync(context).IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("a forwarder went asynchronous");
            }
        }
        return request;
    }

    [Benchmark(Description = "HTTP/1.1 response trailers: YARP's")]
    public bool TrailersYarp() => _yarp.TransformResponseTrailersAsync(_context, _response, CancellationToken.None).IsCompletedSuccessfully;

    [Benchmark(Description = "HTTP/1.1 response trailers: UpstreamTransformer")]
    public bool TrailersEdge() => _edge.TransformResponseTrailersAsync(_context, _response, CancellationToken.None).IsCompletedSuccessfully;
}
