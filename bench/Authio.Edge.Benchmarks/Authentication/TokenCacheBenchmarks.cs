using Authio.EdgeProxy.Authentication;
using BenchmarkDotNet.Attributes;

namespace Authio.Edge.Benchmarks.Authentication;

/// <summary>
/// The validated-token cache alone, full: 100 000 distinct 560-byte tokens (the default capacity; random bytes of an
/// ES256 access token's length). <c>HitSame</c>: one token over and over (its entry and bytes stay in the CPU cache,
/// what ValidationBenchmarks' cache-hit rows see); <c>HitSpread</c>: a different cached token each call (entry, slot
/// and token bytes come from memory, what an edge with many active clients sees); <c>Miss</c>: an unknown token
/// (hash and two slot reads). Uses only <c>TokenCache(capacity)</c>, <c>Add(span, identity)</c> and <c>TryGet</c>, so the
/// same class runs on commits before the slab layout (copy it there for the before figures).
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class TokenCacheBenchmarks
{
    private const int Tokens = 100_000;
    private const int TokenBytes = 560;
    private TokenCache _cache = null!;
    private byte[][] _cached = null!;
    private byte[] _unknown = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _cache = new TokenCache(Tokens);
        var random = new Random(42);
        var identity = new EdgeIdentity { Subject = "user", Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = long.MaxValue };
        var all = new byte[Tokens][];
        for (var i = 0; i < Tokens; i++)
        {
            all[i] = new byte[TokenBytes];
            random.NextBytes(all[i]);
            _cache.Add(all[i], identity);
        }
        // Only the tokens that kept their slot (2-way sets: some evicted each other), in a shuffled order.
        _cached = all.Where(t => _cache.TryGet(t, out _)).OrderBy(_ => random.Next()).ToArray();
        _unknown = new byte[TokenBytes];
        random.NextBytes(_unknown);
    }

    [Benchmark(Baseline = true)]
    public bool HitSame() => _cache.TryGet(_cached[0], out _);

    [Benchmark]
    public bool HitSpread()
    {
        var token = _cached[_next];
        _next = _next + 1 == _cached.Length ? 0 : _next + 1;
        return _cache.TryGet(token, out _);
    }

    [Benchmark]
    public bool Miss() => _cache.TryGet(_unknown, out _);
}
