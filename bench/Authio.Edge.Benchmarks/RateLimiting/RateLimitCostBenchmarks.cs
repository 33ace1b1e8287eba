using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.RateLimiting;
using BenchmarkDotNet.Attributes;

namespace Authio.Edge.Benchmarks.RateLimiting;

/// <summary>
/// Where the time of one <see cref="RateLimitBenchmarks"/> check goes: each step of <c>RateLimiter.Check</c> alone
/// (the clock read, the key hash, the table lookup at a fixed time, the GCRA step on a known bucket).
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class RateLimitCostBenchmarks
{
    private BucketTable _table = null!;
    private RateLimitPolicy _limit = null!;
    private EdgeIdentity _token = null!;
    private Bucket _bucket = null!;
    private long _now;
    private readonly TimeProvider _system = TimeProvider.System;
    private readonly CoarseClock _coarse = new(TimeProvider.System);

    [GlobalSetup]
    public void Setup()
    {
        _table = new BucketTable(262_144);
        _limit = RateLimitPolicy.TryParse("bench", "10000000/1s burst 1000000000", out var limit, out var error) ? limit : throw new InvalidOperationException(error);
        _token = new EdgeIdentity { Subject = "user_01HZX3N5Q8RM", Org = "org_acme", Scopes = [], ScopesHeader = "", AuthType = "jwt" };
        _now = _system.GetTimestamp();
        _bucket = _table.Get(_limit, BucketKeyKind.Subject, _token.Subject, default, _now);
    }

    [Benchmark(Description = "clock: TimeProvider.System.GetTimestamp()")]
    public long Clock() => _system.GetTimestamp();

    [Benchmark(Description = "clock: CoarseClock.Now (cached, timer-refreshed)")]
    public long CoarseClockRead() => _coarse.Now;

    [Benchmark(Description = "key hash: XxHash3 of the subject")]
    public ulong KeyHash() => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(_token.Subject.AsSpan()), 42);

    [Benchmark(Description = "limit hash: RuntimeHelpers.GetHashCode(limit)")]
    public int LimitHash() => RuntimeHelpers.GetHashCode(_limit);

    [Benchmark(Description = "table lookup (hash + set scan + compare), fixed time")]
    public int Lookup() => _table.Get(_limit, BucketKeyKind.Subject, _token.Subject, default, _now).Hash;

    [Benchmark(Description = "GCRA step on a known bucket, fixed time")]
    public bool Gcra() => RateLimiter.Local(_bucket, _limit, _now, _system.TimestampFrequency).Allowed;
}
