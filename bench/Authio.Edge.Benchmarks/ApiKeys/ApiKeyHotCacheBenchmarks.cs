using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using BenchmarkDotNet.Attributes;

namespace Authio.Edge.Benchmarks.ApiKeys;

/// <summary>
/// The hot cache's look-up alone (the digest already computed), for keys in turn as a busy edge sees them: 100 keys
/// (load/run.sh's API-key scenario; all of it fits a core's caches here, not under load) and 50 000 (more than the
/// caches hold: what each hit reads from memory shows). The cache has the default capacity (65 536), and each hit reads
/// the caller's key id, as the request path does next.
/// </summary>
[MemoryDiagnoser]
public class ApiKeyHotCacheBenchmarks
{
    private ApiKeyHotCache _cache = null!;
    /// <summary>The digests one after another in visiting order: read sequentially, as a request's digest is on its stack.</summary>
    private byte[] _digests = null!;
    private int _next;

    [Params(100, 50_000)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _cache = new ApiKeyHotCache(65_536);
        var digests = new byte[Keys][];
        var random = new Random(7);
        for (var i = 0; i < Keys; i++)
        {
            // Entries arrive one look-up at a time, with other allocations between them, as on a running edge.
            digests[i] = new byte[32];
            random.NextBytes(digests[i]);
            _ = new byte[random.Next(64, 512)];
            var identity = new EdgeIdentity
            {
                Subject = null, KeyId = $"key_{i:D20}", Org = "org_1", Scopes = ["read:applications"], ScopesHeader = "read:applications",
                AuthType = "api_key", ExpiresAt = long.MaxValue,
            };
            _cache.Set(new ApiKeyHotCache.Entry(digests[i], identity, null, long.MaxValue, long.MaxValue, new ApiKeyUsageCounter(identity.KeyId)));
        }
        // Visit them in a shuffled order: no prefetcher walks the entries in allocation order.
        random.Shuffle(digests);
        _digests = digests.SelectMany(d => d).ToArray();
    }

    [Benchmark(Description = "API-key hot cache: hit, keys in turn")]
    public int Hit()
    {
        var i = _next;
        _next = i + 32 == _digests.Length ? 0 : i + 32;
        return _cache.TryGetAny(_digests.AsSpan(i, 32), out var entry) ? entry.Identity!.KeyId!.Length : -1;
    }
}
