using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Revocation;
using BenchmarkDotNet.Attributes;

namespace Authio.Edge.Benchmarks.Revocation;

/// <summary>
/// The revocation check every request pays: a bloom filter holding 1 000 000 revoked ids (0.1 % target rate), probed
/// with ids that are not in it. Target: ≤ 50 ns and 0 B per check; filter memory ≤ 2 MB.
/// </summary>
[MemoryDiagnoser]
public class RevocationBenchmarks
{
    private RevocationSet _set = null!;
    private RevocationSet _orgLess = null!;
    private EdgeIdentity _clean = null!;
    private RevocationStage _stage = null!;
    private EdgeIdentity[] _rotating = null!;
    private int _next;
    private readonly string _cleanJti = Guid.NewGuid().ToString("N");

    [GlobalSetup]
    public void Setup()
    {
        var revoked = Enumerable.Range(0, 1_000_000)
            .Select(i => new RevokedId((RevocationKind)(1 + i % 4), "revoked-" + i, long.MaxValue, NotBeforeUnix: 1,
                Org: (RevocationKind)(1 + i % 4) == RevocationKind.UserNotBefore ? "org_" + i % 1000 : null))
            .ToArray();
        _set = RevocationSet.Empty(1_000_000, 0.001).With(revoked, 1, 0, 0.001);
        // The same ids with user not-befores keyed by user alone (what an older control plane sends): a token then pays
        // for both user probes, its org's and the org-less one.
        _orgLess = RevocationSet.Empty(1_000_000, 0.001).With(revoked.Select(r => r with { Org = null }).ToArray(), 1, 0, 0.001);
        Console.WriteLine($"// bloom filter for {_set.Count} revoked ids: {_set.Bloom.SizeBytes / 1024.0 / 1024.0:F2} MiB");
        _clean = new EdgeIdentity
        {
            Subject = "user_" + Guid.NewGuid().ToString("N"), Org = "org_7", TokenId = _cleanJti, SessionId = "ses_" + Guid.NewGuid().ToString("N"),
            Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = long.MaxValue, IssuedAt = 1,
        };
        // The stage as the edge holds it, and 1 000 credentials taking turns (load/run.sh's rotating tokens).
        _stage = new RevocationStage(TimeProvider.System, 1_000_000, 0.001, null);
        _stage.Replace(revoked, 1);
        _rotating = Enumerable.Range(0, 1000).Select(i => new EdgeIdentity
        {
            Subject = "user_" + Guid.NewGuid().ToString("N"), Org = "org_" + i % 10, TokenId = Guid.NewGuid().ToString("N"),
            SessionId = "ses_" + Guid.NewGuid().ToString("N"), Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = long.MaxValue, IssuedAt = 1,
        }).ToArray();
    }

    [Benchmark(Description = "bloom check, one id (negative)")]
    public bool OneId() => _set.Bloom.MightContain(RevocationKind.TokenId, _cleanJti);

    [Benchmark(Description = "revocation stage for a token (jti + sid + per-org user not-before, all negative)")]
    public bool Token() => _set.IsRevoked(_clean, 100);

    [Benchmark(Description = "same, plus org-less user not-befores from an older control plane (two user probes)")]
    public bool TokenOrgLess() => _orgLess.IsRevoked(_clean, 100);

    [Benchmark(Description = "stage, a credential's first check under this snapshot (hash and probe, then remember)")]
    public bool StageFirst()
    {
        _clean.CleanInRevocationGeneration = 0;
        return _stage.Check(_clean) == RevocationVerdict.Clean;
    }

    [Benchmark(Description = "stage, the same credential again (remembered clean for this snapshot)")]
    public bool StageRepeat() => _stage.Check(_clean) == RevocationVerdict.Clean;

    [Benchmark(Description = "set, 1 000 credentials in turn (hash and probe every time)")]
    public bool RotatingHashed()
    {
        var identity = _rotating[_next++ % _rotating.Length];
        return _set.IsRevoked(identity, 100);
    }

    [Benchmark(Description = "stage, 1 000 credentials in turn (remembered clean)")]
    public bool RotatingRemembered() => _stage.Check(_rotating[_next++ % _rotating.Length]) == RevocationVerdict.Clean;
}
