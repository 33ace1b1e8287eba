using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Pipeline;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;

namespace Authio.Edge.Benchmarks.Pipeline;

/// <summary>
/// How the edge's stage hands the admitted caller to YARP's request transform: a request feature set once and read
/// once per request. <c>Set&lt;T&gt;</c>/<c>Get&lt;T&gt;</c> are generic interface methods (a runtime lookup of the
/// instantiation on every call); the collection's indexer is an ordinary interface call. The claim: the indexer
/// costs less, 0 B either way. (The edge's collection under Kestrel is Kestrel's own; this is ASP.NET's, whose
/// <c>Get&lt;T&gt;</c> is its indexer behind the same generic dispatch.)
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class FeatureHandOverBenchmarks
{
    private HttpContext _context = null!;
    private EdgeIdentity _identity = null!;

    [GlobalSetup]
    public void Setup()
    {
        _context = new DefaultHttpContext();
        _identity = new EdgeIdentity { Subject = "user", Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = long.MaxValue };
        if (!ReferenceEquals(Indexer(), _identity) || !ReferenceEquals(Generic(), _identity))
        {
            throw new InvalidOperationException("the identity was not handed over");
        }
    }

    [Benchmark(Baseline = true, Description = "Features.Set<T> + Get<T> (generic interface methods)")]
    public object? Generic()
    {
        _context.Features.Set(_identity);
        return _context.Features.Get<EdgeIdentity>();
    }

    [Benchmark(Description = "IdentityForwarding.Admit + Admitted (the indexer)")]
    public object? Indexer()
    {
        IdentityForwarding.Admit(_context, _identity);
        return IdentityForwarding.Admitted(_context);
    }
}
