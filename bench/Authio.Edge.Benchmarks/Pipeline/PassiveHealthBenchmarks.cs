using Authio.EdgeProxy.Pipeline;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Authio.Edge.Benchmarks.Pipeline;

/// <summary>
/// The passive-health stage of the proxy pipeline on a cluster that does not enable passive checks (the default), with
/// a forward that completes after the stage has returned, as a real one does: YARP's middleware (an async method around
/// the forward) against <see cref="PassiveHealthChecksWhereEnabled"/>. The claim: the edge's allocates nothing of its
/// own and costs less. Both rows include the forward's stand-in (a <see cref="TaskCompletionSource"/> per call).
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class PassiveHealthBenchmarks
{
    private HttpContext _context = null!;
    private TaskCompletionSource _forward = null!;
    private RequestDelegate _yarp = null!;
    private RequestDelegate _edge = null!;

    [GlobalSetup]
    public void Setup()
    {
        _context = new DefaultHttpContext();
        var cluster = new ClusterModel(new ClusterConfig { ClusterId = "up" }, new HttpMessageInvoker(new HttpClientHandler()));
        _context.Features.Set<IReverseProxyFeature>(new ReverseProxyFeature { Cluster = cluster, AvailableDestinations = [] });
        RequestDelegate forward = _ => _forward.Task;
        _yarp = new PassiveHealthCheckMiddleware(forward, []).Invoke;
        _edge = new PassiveHealthChecksWhereEnabled(forward, []).InvokeAsync;
    }

    private bool Run(RequestDelegate stage)
    {
        _forward = new TaskCompletionSource();
        var request = stage(_context);
        _forward.SetResult();
        request.GetAwaiter().GetResult();
        return request.IsCompletedSuccessfully;
    }

    [Benchmark(Baseline = true, Description = "YARP's PassiveHealthCheckMiddleware")]
    public bool YarpStage() => Run(_yarp);

    [Benchmark(Description = "PassiveHealthChecksWhereEnabled")]
    public bool EdgeStage() => Run(_edge);
}
