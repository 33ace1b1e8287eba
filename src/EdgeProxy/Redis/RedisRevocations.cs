using System.Collections.Concurrent;
using System.Globalization;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Concurrency;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Revocation;
using Authio.Shared.Sync;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Redis;

/// <summary>
/// The exact revocation set the control plane mirrors into Redis (<see cref="EdgeSyncPaths.RedisRevokedPrefix"/>),
/// asked only for bloom-filter positives the local tail cannot settle: one <c>MGET</c> of the marker and the flagged
/// ids, answers cached briefly per revocation snapshot. The marker (<see cref="EdgeSyncPaths.RedisRevokedThrough"/>)
/// must be present and never below what this edge has seen, or Redis is not trusted (it lost data): then the answer
/// is "unconfirmed" and <c>Edge:Revocation:FailClosed</c> decides. Redis known to be down (<see cref="EdgeRedis"/>)
/// is not waited for on the request path.
/// </summary>
internal sealed partial class RedisRevocations : IRemoteRevocationSet
{
    private const int MaxCachedAnswers = 10_000;
    private static readonly RedisKey Through = EdgeSyncPaths.RedisRevokedThrough;
    private static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(10);

    private readonly EdgeRedis _redis;
    private readonly RevocationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisRevocations> _logger;
    private readonly ConcurrentDictionary<(RevocationKind, string?, string), Answer> _answers = new();
    private readonly long _answerTicks;
    private long _highWater;
    private long _lastLogged = long.MinValue;
    private long _nextSweep = long.MinValue;

    // The snapshot's generation, not the snapshot: up to MaxCachedAnswers answers made against as many superseded
    // snapshots would otherwise keep each one's filter alive (the soak's edges grew by ~1 MiB/s, one filter per revocation).
    private sealed record Answer(long Generation, bool Found, long NotBefore, long ValidUntil);

    public RedisRevocations(EdgeRedis redis, EdgeOptions options, TimeProvider time, ILogger<RedisRevocations> logger)
    {
        _redis = redis;
        _options = options.Revocation;
        _time = time;
        _logger = logger;
        _answerTicks = (long)(_options.ConfirmCacheDuration.TotalSeconds * time.TimestampFrequency);
    }

    public bool Configured => true;

    /// <summary>The highest marker seen: every revocation at or below it is in Redis.</summary>
    public long MirroredThrough => Volatile.Read(ref _highWater);

    /// <summary>Reads the marker (off the request path: the sync client, before applying a batch). Null when unknown.</summary>
    public async Task<long?> RefreshThroughAsync()
    {
        try
        {
            if (_redis.Connection is not { IsConnected: true } connection)
            {
                return null;
            }
            var marker = await connection.GetDatabase().StringGetAsync(Through).WaitAsync(_options.ConfirmTimeout);
            _redis.ReportSuccess();
            return marker.HasValue && Observe((long)marker) ? (long)marker : null;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.ReportFailure(ex);
            return null;
        }
    }

    public async ValueTask<RevocationVerdict> ConfirmAsync(EdgeIdentity identity, RevocationSet set, CancellationToken cancellationToken)
    {
        var unsettled = new List<(RevocationKind Kind, string? Org, string Value)>(5);
        set.CollectUnsettled(identity, unsettled);
        var now = _time.GetTimestamp();
        var asked = new List<(RevocationKind Kind, string? Org, string Value)>(unsettled.Count);
        var revoked = false;
        foreach (var id in unsettled)
        {
            if (_answers.TryGetValue(id, out var cached) && cached.Generation == set.Generation && now < cached.ValidUntil)
            {
                revoked |= Revokes(id.Kind, cached, identity);
            }
            else
            {
                asked.Add(id);
            }
        }
        if (revoked || asked.Count == 0)
        {
            return revoked ? RevocationVerdict.Revoked : RevocationVerdict.Clean;
        }
        var values = await LookUpAsync(asked, cancellationToken);
        if (values is null)
        {
            return Unavailable();
        }
        SweepExpiredAnswers(now);
        if (_answers.Count > MaxCachedAnswers)
        {
            _answers.Clear();
        }
        for (var i = 0; i < asked.Count; i++)
        {
            var value = values[i + 1];
            var answer = new Answer(set.Generation, value.HasValue, value.HasValue && long.TryParse((string?)value, NumberStyles.None, CultureInfo.InvariantCulture, out var nb) ? nb : 0,
                now + _answerTicks);
            _answers[asked[i]] = answer;
            revoked |= Revokes(asked[i].Kind, answer, identity);
        }
        return revoked ? RevocationVerdict.Revoked : RevocationVerdict.Clean;
    }

    /// <summary>
    /// Drops answers past their validity, at most once per answer lifetime: each revoked credential presented adds one,
    /// so without it the cache grew to its bound under steady revocations (the soak's heap rose ≈ 1.5 MiB over 10 minutes).
    /// </summary>
    private void SweepExpiredAnswers(long now)
    {
        var due = Volatile.Read(ref _nextSweep);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + _answerTicks, due) != due)
        {
            return;
        }
        foreach (var entry in _answers)
        {
            if (entry.Value.ValidUntil <= now)
            {
                _answers.TryRemove(entry);
            }
        }
    }

    /// <summary>Answers held (tests).</summary>
    internal int CachedAnswers => _answers.Count;

    private static bool Revokes(RevocationKind kind, Answer answer, EdgeIdentity identity) =>
        answer.Found && (kind != RevocationKind.UserNotBefore || identity.IssuedAt < answer.NotBefore);

    /// <summary>The marker and the asked ids in one round trip; null when Redis cannot be trusted or reached in time.</summary>
    private async Task<RedisValue[]?> LookUpAsync(List<(RevocationKind Kind, string? Org, string Value)> asked, CancellationToken cancellationToken)
    {
        try
        {
            if (!_redis.IsAvailable || _redis.Connection is not { } connection)
            {
                return null; // known to be down: no waiting on the request path
            }
            var keys = new RedisKey[asked.Count + 1];
            keys[0] = Through;
            for (var i = 0; i < asked.Count; i++)
            {
                keys[i + 1] = asked[i].Kind == RevocationKind.UserNotBefore
                    ? EdgeSyncPaths.RedisUserNotBeforeKey(asked[i].Org, asked[i].Value)
                    : EdgeSyncPaths.RedisRevokedKey(WireKind(asked[i].Kind), asked[i].Value);
            }
            var values = await connection.GetDatabase().StringGetAsync(keys).WaitAsync(_options.ConfirmTimeout, cancellationToken);
            _redis.ReportSuccess();
            return values[0].HasValue && Observe((long)values[0]) ? values : null;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.ReportFailure(ex);
            return null;
        }
    }

    /// <summary>False when the marker went back (Redis restarted from older data): what this edge pruned may be gone.</summary>
    private bool Observe(long marker) => marker >= AtomicMax.Raise(ref _highWater, marker);

    private RevocationVerdict Unavailable()
    {
        var now = _time.GetTimestamp();
        var last = Volatile.Read(ref _lastLogged);
        if ((last == long.MinValue || _time.GetElapsedTime(last, now) >= LogEvery) && Interlocked.CompareExchange(ref _lastLogged, now, last) == last)
        {
            LogUnavailable(_logger, _options.FailClosed ? "rejected (Edge:Revocation:FailClosed)" : "accepted (Edge:Revocation:FailClosed is false)");
        }
        return _options.FailClosed ? RevocationVerdict.Unconfirmed : RevocationVerdict.Clean;
    }

    private static string WireKind(RevocationKind kind) => kind switch
    {
        RevocationKind.TokenId => RevocationKinds.TokenId,
        RevocationKind.SessionId => RevocationKinds.SessionId,
        RevocationKind.ApiKey => RevocationKinds.ApiKey,
        _ => RevocationKinds.UserNotBefore,
    };
}
