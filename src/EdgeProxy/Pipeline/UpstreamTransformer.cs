using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// Each route's transformer as YARP builds it, with one step skipped: copying the upstream's response trailers to an
/// HTTP/1.x client. Kestrel offers response trailers on HTTP/2 and HTTP/3 only, so for HTTP/1.x YARP's copy finds no
/// trailers feature and does nothing, after an async state machine and a feature look-up that misses (a miss falls
/// through to the connection's own features) on every request (UpstreamTransformerBenchmarks, bench/README.md).
/// HTTP/2 and HTTP/3 requests (gRPC among them) get their trailers exactly as before.
/// </summary>
internal sealed class UpstreamTransformer(HttpTransformer inner) : HttpTransformer
{
    public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        => inner.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        => inner.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);

    public override ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken)
    {
        var protocol = httpContext.Request.Protocol;
        return HttpProtocol.IsHttp11(protocol) || HttpProtocol.IsHttp10(protocol)
            ? default
            : inner.TransformResponseTrailersAsync(httpContext, proxyResponse, cancellationToken);
    }

#pragma warning disable CS0672, CS0618 // The obsolete overloads without a token, for any caller still using them: the same behaviour.
    public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix)
        => TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, CancellationToken.None);

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse)
        => TransformResponseAsync(httpContext, proxyResponse, CancellationToken.None);

    public override ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse)
        => TransformResponseTrailersAsync(httpContext, proxyResponse, CancellationToken.None);
#pragma warning restore CS0672, CS0618

    /// <summary>Wraps every transformer YARP's builder makes for a route; validation and direct-forwarding transformers are YARP's own.</summary>
    private sealed class Builder(ITransformBuilder inner) : ITransformBuilder
    {
        public IReadOnlyList<Exception> ValidateRoute(RouteConfig route) => inner.ValidateRoute(route);

        public IReadOnlyList<Exception> ValidateCluster(ClusterConfig cluster) => inner.ValidateCluster(cluster);

        public HttpTransformer Build(RouteConfig route, ClusterConfig? cluster) => new UpstreamTransformer(inner.Build(route, cluster));

        public HttpTransformer Create(Action<TransformBuilderContext> action) => inner.Create(action);
    }

    /// <summary>Decorates the <see cref="ITransformBuilder"/> <c>AddReverseProxy</c> registered (call after it).</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(ITransformBuilder))
            ?? throw new InvalidOperationException("AddReverseProxy registers an ITransformBuilder; call it before UpstreamTransformer.Decorate.");
        services.Remove(registered);
        services.AddSingleton<ITransformBuilder>(sp => new Builder(registered switch
        {
            { ImplementationInstance: ITransformBuilder instance } => instance,
            { ImplementationFactory: { } factory } => (ITransformBuilder)factory(sp),
            _ => (ITransformBuilder)ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!),
        }));
    }
}
