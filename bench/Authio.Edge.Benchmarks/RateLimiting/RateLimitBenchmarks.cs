using System.Net;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.RateLimiting;
using BenchmarkDotNet.Attributes;

namespace Authio.Edge.Benchmarks.RateLimiting;

/// <summary>
/// One local rate-limit check including the bucket lookup (hash, set scan, full-key compare) and the GCRA CAS, on the
/// limiter's clock (<c>CoarseClock</c> over <c>TimeProvider.System</c>: the cached monotonic timestamp, refreshed every
/// millisecond by a timer while checks run). Budget: ≤ 50 ns and 0 B per check. The limits are generous so every check
/// is admitted (the admitted path is the one that writes), except <see cref="Refused"/>.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class RateLimitBenchmarks
{
    private RateLimiter _limiter = null!;
    private RateLimitPolicy _perCredential = null!;
    private RateLimitPolicy _perOrg = null!;
    private RateLimitPolicy _perIp = null!;
    private RateLimitPolicy _exhausted = null!;
    private EdgeIdentity _apiKey = null!;
    private EdgeIdentity _token = null!;
    private EdgeIdentity[] _many = null!;
    private IPAddress _client = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _limiter = new RateLimiter(new BucketTable(262_144), new InMemoryOrgRateLimits(), null, 1, TimeProvider.System, null);
        _perCredential = Parse("10000000/1s burst 1000000000");
        _perOrg = Parse("10000000/1s burst 1000000000 per org");
        _perIp = Parse("10000000/1s burst 1000000000 per ip");
        _exhausted = Parse("1/1h burst 1");
        _limiter.Check(_exhausted, _token, _client);
        _apiKey = new EdgeIdentity { Subject = null, KeyId = "key_01HZX3N5Q8", Org = "org_acme", Scopes = [], ScopesHeader = "", AuthType = "api_key" };
        _token = new EdgeIdentity { Subject = "user_01HZX3N5Q8RM", Org = "org_acme", Scopes = [], ScopesHeader = "", AuthType = "jwt" };
        _many = Enumerable.Range(0, 100_000)
            .Select(i => new EdgeIdentity { Subject = $"user_{i:x8}", Org = "org_acme", Scopes = [], ScopesHeader = "", AuthType = "jwt" })
            .ToArray();
        _client = IPAddress.Parse("203.0.113.7");
    }

    private static RateLimitPolicy Parse(string text) =>
        RateLimitPolicy.TryParse("bench", text, out var limit, out var error) ? limit : throw new InvalidOperationException(error);

    [Benchmark(Baseline = true)]
    public bool ApiKey() => _limiter.Check(_perCredential, _apiKey, _client).Allowed;

    [Benchmark]
    public bool TokenSubject() => _limiter.Check(_perCredential, _token, _client).Allowed;

    [Benchmark]
    public bool Org() => _limiter.Check(_perOrg, _token, _client).Allowed;

    [Benchmark]
    public bool ClientIp() => _limiter.Check(_perIp, null, _client).Allowed;

    /// <summary>A refused check: the bucket is empty, so the check is redone on the exact clock before refusing.</summary>
    [Benchmark]
    public bool Refused() => _limiter.Check(_exhausted, _token, _client).Allowed;

    [GlobalCleanup]
    public void Cleanup() => _limiter.Dispose();

    /// <summary>100 000 live keys in turn: the table no longer fits in cache, as on a busy edge.</summary>
    [Benchmark]
    public bool HundredThousandKeys()
    {
        var index = _next + 1 == _many.Length ? 0 : _next + 1;
        _next = index;
        return _limiter.Check(_perCredential, _many[index], _client).Allowed;
    }
}
