using System.Net.Http.Headers;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Policy;
using Authio.Shared.Tokens;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// The identity headers of an admitted caller — the trusted <c>X-Authio-*</c> headers and the route's claim headers,
/// header-safe values computed once per credential (<see cref="IdentityHeaderValue"/>) — written once, where they go:
/// inline, straight into the request YARP sends upstream (<see cref="UpstreamTransform"/>); in forward-auth, into the
/// 200 the proxy copies them from. Not into the incoming request's headers: Kestrel would index them in its
/// unknown-header dictionary and YARP would then look each up and copy it again (load/README.md, "Where the rest goes").
/// </summary>
internal static class IdentityForwarding
{
    /// <summary>Hands the admitted caller to <see cref="UpstreamTransform"/>, which writes its headers as YARP builds the upstream request.</summary>
    /// <remarks>
    /// Through the collection's indexer, not <c>Set&lt;T&gt;</c>/<c>Get&lt;T&gt;</c>: those are generic interface methods,
    /// resolved by a runtime lookup on every call (FeatureHandOverBenchmarks, bench/README.md).
    /// </remarks>
    public static void Admit(HttpContext context, EdgeIdentity identity) => context.Features[typeof(EdgeIdentity)] = identity;

    /// <summary>The caller <see cref="Admit"/> handed over for this request; null for an anonymous one.</summary>
    public static EdgeIdentity? Admitted(HttpContext context) => context.Features[typeof(EdgeIdentity)] as EdgeIdentity;

    /// <summary>Writes every identity header of <paramref name="identity"/> for <paramref name="policy"/>'s route.</summary>
    public static void Write<TSink>(TSink sink, RoutePolicy policy, EdgeIdentity identity) where TSink : IIdentityHeaderSink
    {
        // The X-Authio-* names never arrive from a client (request hygiene removed every inbound copy): added, not replaced.
        AddIfPresent(sink, IdentityHeaders.Subject, identity.SubjectHeader);
        AddIfPresent(sink, IdentityHeaders.KeyId, identity.KeyId);
        sink.Add(IdentityHeaders.Scopes, identity.ScopesHeader);
        sink.Add(IdentityHeaders.AuthType, identity.AuthType);
        AddIfPresent(sink, IdentityHeaders.Org, identity.OrgHeader ?? identity.Org);
        AddIfPresent(sink, IdentityHeaders.Session, identity.SessionHeader);
        AddIfPresent(sink, IdentityHeaders.TokenId, identity.TokenIdHeader);
        // A mapped claim header can have any name, so a client may have sent one: replaced, or removed when the
        // credential has no such claim — a client never chooses what the upstream reads in a mapped header.
        foreach (var header in policy.ClaimHeaders)
        {
            sink.Replace(header.Header, identity.ClaimValue(header.Index));
        }
    }

    private static void AddIfPresent<TSink>(TSink sink, string name, string? value) where TSink : IIdentityHeaderSink
    {
        if (value is not null)
        {
            sink.Add(name, value);
        }
    }

    /// <summary>Where identity headers are written; a struct per target so <see cref="Write{TSink}"/> compiles to direct calls.</summary>
    internal interface IIdentityHeaderSink
    {
        void Add(string name, string value);

        /// <summary>Sets <paramref name="name"/> to <paramref name="value"/> alone; null removes it.</summary>
        void Replace(string name, string? value);
    }

    /// <summary>The headers of the request YARP sends upstream (after it copied the client's).</summary>
    internal readonly struct UpstreamSink(HttpRequestHeaders headers) : IIdentityHeaderSink
    {
        public void Add(string name, string value) => headers.TryAddWithoutValidation(name, value);

        public void Replace(string name, string? value)
        {
            headers.Remove(name);
            if (value is not null)
            {
                headers.TryAddWithoutValidation(name, value);
            }
        }
    }

    /// <summary>An ASP.NET Core header collection: the forward-auth answer's response headers.</summary>
    internal readonly struct HeaderDictionarySink(IHeaderDictionary headers) : IIdentityHeaderSink
    {
        public void Add(string name, string value) => headers[name] = value;

        public void Replace(string name, string? value)
        {
            if (value is null)
            {
                headers.Remove(name);
            }
            else
            {
                headers[name] = value;
            }
        }
    }

    /// <summary>
    /// Adds <see cref="UpstreamTransform"/> to every authenticated route, first among the route's request transforms so
    /// the route's own <c>Transforms</c> (a <c>RequestHeaderRemove</c>, say) still see and act on the identity headers.
    /// </summary>
    internal sealed class TransformProvider(RoutePolicies policies) : ITransformProvider
    {
        public void ValidateRoute(TransformRouteValidationContext context)
        {
        }

        public void ValidateCluster(TransformClusterValidationContext context)
        {
        }

        public void Apply(TransformBuilderContext context)
        {
            if (context.Route is { } route && policies.Get(route) is { Anonymous: false } policy)
            {
                context.RequestTransforms.Insert(0, new UpstreamTransform(policy));
            }
        }
    }

    /// <summary>
    /// Writes the identity the edge's stages admitted into the upstream request. The middleware hands it over as a
    /// request feature (<see cref="Admit"/>): Kestrel keeps the slot per connection and clears it for each request.
    /// </summary>
    internal sealed class UpstreamTransform(RoutePolicy policy) : RequestTransform
    {
        public override ValueTask ApplyAsync(RequestTransformContext context)
        {
            if (Admitted(context.HttpContext) is { } identity)
            {
                Write(new UpstreamSink(context.ProxyRequest.Headers), policy, identity);
            }
            return default;
        }
    }
}
