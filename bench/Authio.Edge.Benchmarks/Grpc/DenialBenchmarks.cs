using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Pipeline;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;

namespace Authio.Edge.Benchmarks.Grpc;

/// <summary>
/// A denial written as problem+json (HTTP callers) and as a trailers-only gRPC status (gRPC callers), headers reset
/// between calls as a server does. Target: both 0 B, the gRPC one no slower than the JSON one (it writes no body).
/// </summary>
[MemoryDiagnoser]
public class DenialBenchmarks
{
    private readonly DefaultHttpContext _http = new();
    private readonly DefaultHttpContext _grpc = new();

    [GlobalSetup]
    public void Setup()
    {
        _http.Request.Headers.ContentType = "application/json";
        _grpc.Request.Headers.ContentType = "application/grpc";
        _http.Response.Body = Stream.Null;
        _grpc.Response.Body = Stream.Null;
        ProblemJson();
        Grpc();
    }

    [Benchmark(Baseline = true, Description = "401 as problem+json")]
    public Task ProblemJson()
    {
        _http.Response.Headers.Clear();
        return EdgeResponses.WriteAsync(_http, EdgeError.MissingCredential);
    }

    [Benchmark(Description = "401 as grpc-status 16 (trailers-only)")]
    public Task Grpc()
    {
        _grpc.Response.Headers.Clear();
        return EdgeResponses.WriteAsync(_grpc, EdgeError.MissingCredential);
    }
}
