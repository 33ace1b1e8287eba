using System.Net;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Pipeline;
using Authio.EdgeProxy.Policy;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Authio.Edge.Benchmarks;

/// <summary>
/// The edge's whole per-request stage (request hygiene: path check and scrub, policy lookup, header parse, cached authentication, metrics, identity
/// headers written into the upstream request) on a cache hit, outside Kestrel/YARP: what the edge adds to a proxied request. The baseline only
/// resets the request headers, which both rows do so the middleware always sees a fresh request.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class MiddlewareBenchmarks
{
    private DefaultHttpContext _context = null!;
    private EdgeMiddleware _middleware = null!;
    private string _authorization = null!;
    private readonly HttpRequestMessage _upstream = new();
    private readonly RoutePolicy _policy = RoutePolicy.AuthenticatedDefault;

    [GlobalSetup]
    public void Setup()
    {
        var f = TokenFixture.Shared;
        var token = f.Mint("ES256");
        _authorization = "Bearer " + token;
        if (!f.Authenticator.TryAuthenticate(token.AsSpan(), IPAddress.Loopback, out _, out var error))
        {
            throw new InvalidOperationException("token refused: " + error);
        }
        var route = new RouteConfig { RouteId = "all", ClusterId = "up", Match = new RouteMatch { Path = "{**catch-all}" } };
        var policies = new RoutePolicies();
        var refresher = new JwksRefresher(f.Registry, new JwksFetcher(new HttpClient()), TimeProvider.System, NullLogger<JwksRefresher>.Instance);
        var metrics = new Authio.EdgeProxy.Diagnostics.EdgeMetrics(
            new ServiceCollection().AddMetrics().BuildServiceProvider()
                .GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), f.Registry, TimeProvider.System);
        var apiKeys = new Authio.EdgeProxy.ApiKeys.ApiKeyAuthenticator(new Authio.EdgeProxy.Configuration.EdgeOptions(),
            new Authio.EdgeProxy.ApiKeys.ApiKeyHotCache(16), new ZiggyCreatures.Caching.Fusion.FusionCache(new ZiggyCreatures.Caching.Fusion.FusionCacheOptions()),
            null, new Authio.EdgeProxy.ApiKeys.ApiKeyUsageCounters(), new Authio.EdgeProxy.Revocation.NoRevocations(), TimeProvider.System,
            NullLogger<Authio.EdgeProxy.ApiKeys.ApiKeyAuthenticator>.Instance);
        var limiter = new Authio.EdgeProxy.RateLimiting.RateLimiter(new Authio.EdgeProxy.RateLimiting.BucketTable(1024),
            new Authio.EdgeProxy.RateLimiting.InMemoryOrgRateLimits(), null, 1, TimeProvider.System, null);
        _middleware = new EdgeMiddleware(static _ => Task.CompletedTask, f.Authenticator, policies, refresher, apiKeys, metrics, limiter,
            new Authio.EdgeProxy.Revocation.NoRevocations(),
            new Authio.EdgeProxy.WebSockets.LiveConnections(TimeProvider.System, new Authio.EdgeProxy.Revocation.RevocationStage(TimeProvider.System),
                new Authio.EdgeProxy.Revocation.NoRevocations(), new Authio.EdgeProxy.Configuration.EdgeOptions(),
                NullLogger<Authio.EdgeProxy.WebSockets.LiveConnections>.Instance),
            new Authio.EdgeProxy.RateLimiting.CoarseClock(TimeProvider.System), new Authio.EdgeProxy.Configuration.EdgeOptions());
        _context = new DefaultHttpContext();
        _context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget = "/api/orders/42";
        _context.Connection.RemoteIpAddress = IPAddress.Loopback;
        _context.Features.Set<IReverseProxyFeature>(new ReverseProxyFeature
        {
            Route = new RouteModel(route, new ClusterState("up"), HttpTransformer.Default),
        });
        Invoke().GetAwaiter().GetResult();
        if (_context.Response.StatusCode != 200 || !_upstream.Headers.Contains("X-Authio-Subject"))
        {
            throw new InvalidOperationException($"middleware did not authenticate: {_context.Response.StatusCode}");
        }
    }

    [Benchmark(Baseline = true, Description = "reset request headers only")]
    public void ResetOnly() => Reset();

    [Benchmark(Description = "RequestHygiene.Check + EdgeMiddleware.InvokeAsync (cache hit, ES256 token)")]
    public Task Invoke()
    {
        Reset();
        // The scrub moved to the first stage (before routing); it is still part of what the edge adds per request.
        var stages = RequestHygiene.Check(_context, 32 * 1024) is null ? _middleware.InvokeAsync(_context) : Task.CompletedTask;
        // The identity headers are written as YARP builds the upstream request (IdentityForwarding's transform).
        if (_context.Features.Get<Authio.EdgeProxy.Authentication.EdgeIdentity>() is { } identity)
        {
            IdentityForwarding.Write(new IdentityForwarding.UpstreamSink(_upstream.Headers), _policy, identity);
        }
        return stages;
    }

    private void Reset()
    {
        var headers = _context.Request.Headers;
        headers.Clear();
        headers.Host = "127.0.0.1";
        headers.Accept = "*/*";
        headers.Authorization = _authorization;
        _upstream.Headers.Clear();
    }
}
