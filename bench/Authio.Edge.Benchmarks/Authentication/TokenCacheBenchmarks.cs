using Authio.EdgeProxy.Authentication;
using BenchmarkDotNet.Attributes;

namespace Authio.Edge.Benchmarks.Authentication;

/// <summary>
/// The validated-token cache alone, full: 100 000 distinct ≈ 560-byte tokens (the default capacity), shaped as ES256
/// access tokens of one key and issuer (the same header, a payload starting with <c>iss</c> and <c>aud</c>, per-token
/// <c>sub</c>/<c>sid</c>/<c>jti</c>, a random 86-character signature), so a layout that shares their beginning is measured
/// as an edge would use it. <c>HitSame</c>: one token over and over (its entry and bytes stay in the CPU cache,
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
    /// <summary>Longest token the setup makes (they are ≈ 560 bytes: header 78, payload 396, signature 86, two dots).</summary>
    private const int TokenBytes = 600;
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
            all[i] = JwsShaped(random, i);
            _cache.Add(all[i], identity);
        }
        // Only the tokens that kept their slot (2-way sets: some evicted each other), in a shuffled order.
        _cached = all.Where(t => _cache.TryGet(t, out _)).OrderBy(_ => random.Next()).ToArray();
        _unknown = JwsShaped(random, Tokens);
    }

    private static byte[] JwsShaped(Random random, int i)
    {
        static string B64(string text) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var header = B64("""{"alg":"ES256","typ":"at+jwt","kid":"bench-es256-key-1"}""");
        var payload = B64($$"""{"iss":"https://issuer.authio.bench/","aud":"https://api.authio.bench","sub":"user_{{i:D12}}","org":"org_acme","sid":"sess_{{i:D12}}","jti":"{{random.NextInt64():x16}}{{random.NextInt64():x16}}","iat":1795952556,"nbf":1795952556,"exp":1795959756,"scope":"read:applications write:applications read:users"}""");
        var signature = new byte[64];
        random.NextBytes(signature);
        var token = System.Text.Encoding.ASCII.GetBytes($"{header}.{payload}.{Convert.ToBase64String(signature).TrimEnd('=').Replace('+', '-').Replace('/', '_')}");
        return token.Length <= TokenBytes ? token : throw new InvalidOperationException($"token of {token.Length} bytes");
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
