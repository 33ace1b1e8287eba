using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Redis;
using Authio.EdgeProxy.Revocation;
using Authio.Shared.Sync;

namespace Authio.EdgeProxy.Sync;

/// <summary>
/// Follows the control plane's ordered change log over HTTP: a snapshot, then long-polled changes after its sequence.
/// Each batch becomes new immutable state (key set, revocation set) swapped in whole. A gap (<c>reset</c>) or any
/// doubt triggers a fresh snapshot; while the control plane is unreachable the last state keeps serving.
/// </summary>
internal sealed partial class EdgeSyncClient(
    ControlPlaneClient controlPlane,
    IssuerRegistry registry,
    RevocationStage revocations,
    InMemoryOrgRateLimits orgLimits,
    EdgeMetrics metrics,
    EdgeOptions options,
    TimeProvider time,
    ILogger<EdgeSyncClient> logger,
    RedisChangeFeed? redisFeed = null,
    ApiKeyRecordChanges? apiKeyChanges = null) : BackgroundService, IUnknownKidCatchUp
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);
    // A feed read may take its long poll plus this much before the edge counts itself behind.
    private const int ReadGraceSeconds = 5;
    private static readonly TimeSpan RedisWait = TimeSpan.FromSeconds(1);
    // An entry signed by a key this edge does not know may mean the control plane's key changed: a fresh snapshot
    // brings it, but at most this often (a forged kid must not turn into a snapshot per read).
    private static readonly TimeSpan FeedKeyRefreshInterval = TimeSpan.FromSeconds(30);
    // Redis can withhold entries (a writer that occupies future stream ids makes the control plane's appends fail, then
    // deletes them): this often the authenticated HTTP feed is asked too, so a revocation is never held back longer.
    private static readonly TimeSpan HttpReconcileInterval = TimeSpan.FromSeconds(30);
    // An unknown kid reads the feed at once, at most this often per edge (a forged kid must not cost a read per request).
    private static readonly TimeSpan UnknownKidCatchUpInterval = TimeSpan.FromSeconds(1);
    private readonly RedisChangeFeed? _redisFeed = redisFeed;
    private readonly SemaphoreSlim _applying = new(1, 1);
    private readonly Lock _catchUpLock = new();
    private Task<bool>? _catchUp;
    private long _lastCatchUp = long.MinValue;
    private TrustedIssuer? _issuer;
    // The control plane's published keys by org; only the sync loop touches it, and it publishes once per batch.
    private OrgKeySets? _keys;
    private long _lastContactTimestamp;
    private volatile bool _hasSnapshot;
    private volatile FeedTrust _feedTrust = FeedTrust.RevocationsOnly;
    private string? _lastRejectedEntry;
    private bool _feedKeyRefreshWanted;
    private long _lastFeedKeyRefresh = long.MinValue;
    private long _lastHttpRead;
    private readonly long _startedAt = time.GetTimestamp();
    private long _readStarted;
    private volatile bool _viaRedis;
    private volatile bool _controlPlaneUp;

    public long Sequence => revocations.Current.Sequence;

    public bool HasSnapshot => _hasSnapshot;

    /// <summary>True while the feed has been heard from within <c>Edge:ControlPlane:MaxStaleness</c>.</summary>
    public bool IsFresh => _hasSnapshot && time.GetElapsedTime(Volatile.Read(ref _lastContactTimestamp)) <= options.ControlPlane.MaxStaleness;

    /// <summary>
    /// Seconds since the edge last knew it had every change: 0 while a read of the feed is open within its expected
    /// time (a long poll is answered as soon as a change exists), else since the last completed read; since start
    /// before the first snapshot.
    /// </summary>
    public double LagSeconds
    {
        get
        {
            if (!_hasSnapshot)
            {
                return time.GetElapsedTime(_startedAt).TotalSeconds;
            }
            var open = Volatile.Read(ref _readStarted);
            return open != 0 && time.GetElapsedTime(open).TotalSeconds <= options.ControlPlane.LongPollSeconds + ReadGraceSeconds
                ? 0
                : time.GetElapsedTime(Volatile.Read(ref _lastContactTimestamp)).TotalSeconds;
        }
    }

    /// <summary>True while changes arrive through Redis Streams; false on the control plane's HTTP feed.</summary>
    public bool ViaRedis => _viaRedis;

    /// <summary>Whether the control plane answered the edge's last call to it (false before the first answer).</summary>
    public bool ControlPlaneUp => _controlPlaneUp;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var needSnapshot = true;
        var backoff = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (needSnapshot)
                {
                    var snapshot = await controlPlane.GetSnapshotAsync(stoppingToken);
                    _controlPlaneUp = true;
                    var mirroredThrough = snapshot.RedisRevocations ? await MirroredThroughAsync() : 0;
                    await ApplyingAsync(() => ApplySnapshot(snapshot, mirroredThrough), stoppingToken);
                    needSnapshot = false;
                }
                Volatile.Write(ref _readStarted, time.GetTimestamp());
                var batch = await NextBatchAsync(stoppingToken);
                Volatile.Write(ref _lastContactTimestamp, time.GetTimestamp());
                Volatile.Write(ref _readStarted, 0);
                needSnapshot = batch.Reset || !await ApplyingAsync(() => ApplyChanges(batch, revocations.Redis.MirroredThrough), stoppingToken)
                    || revocations.Current.NeedsSnapshot || FeedKeyRefreshDue();
                if (revocations.Current is { RemoteExact: true, Count: > 0 })
                {
                    // After the batch took effect: what Redis holds by now need not be kept here too.
                    revocations.Prune(await MirroredThroughAsync());
                }
                backoff = TimeSpan.FromMilliseconds(200);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !stoppingToken.IsCancellationRequested)
            {
                LogFeedFailed(logger, ex.GetType().Name, ex.Message);
                Volatile.Write(ref _readStarted, 0);
                _controlPlaneUp = _controlPlaneUp && ex is System.Text.Json.JsonException; // it answered, badly: still reachable
                try
                {
                    await Task.Delay(backoff, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// An unknown kid may be a key the feed has not delivered yet: a new org's first token can reach the edge a few
    /// milliseconds before the org's key does. The feed is read at once (no wait) and applied, so the caller can
    /// authenticate again. At most once per <see cref="UnknownKidCatchUpInterval"/> (a forged kid must not turn into a
    /// control-plane read per request); concurrent misses share one read. False when no read was made or it failed.
    /// </summary>
    public Task<bool> CatchUpForUnknownKidAsync(CancellationToken cancellationToken)
    {
        if (!_hasSnapshot)
        {
            return Task.FromResult(false);
        }
        lock (_catchUpLock)
        {
            if (_catchUp is { IsCompleted: false } running)
            {
                return running.WaitAsync(cancellationToken);
            }
            if (_lastCatchUp != long.MinValue && time.GetElapsedTime(_lastCatchUp) < UnknownKidCatchUpInterval)
            {
                return Task.FromResult(false);
            }
            _lastCatchUp = time.GetTimestamp();
            _catchUp = CatchUpAsync();
            return _catchUp.WaitAsync(cancellationToken);
        }
    }

    private async Task<bool> CatchUpAsync()
    {
        try
        {
            var batch = await ChangesAsync(0, CancellationToken.None);
            // A gap is the sync loop's to settle with a snapshot; it meets the same gap on its next read.
            return !batch.Reset && await ApplyingAsync(() => ApplyChanges(batch, revocations.Redis.MirroredThrough), CancellationToken.None);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            LogCatchUpFailed(logger, ex.GetType().Name, ex.Message);
            _controlPlaneUp = _controlPlaneUp && ex is System.Text.Json.JsonException;
            return false;
        }
    }

    /// <summary>The sync loop and an unknown kid's catch-up both apply feed state: one at a time.</summary>
    private async Task<T> ApplyingAsync<T>(Func<T> apply, CancellationToken cancellationToken)
    {
        await _applying.WaitAsync(cancellationToken);
        try
        {
            return apply();
        }
        finally
        {
            _applying.Release();
        }
    }

    private Task ApplyingAsync(Action apply, CancellationToken cancellationToken) => ApplyingAsync(() =>
    {
        apply();
        return true;
    }, cancellationToken);

    /// <summary>The Redis marker (every revocation at or below it is there), or 0 when unknown: then everything stays in memory.</summary>
    private async Task<long> MirroredThroughAsync() => await revocations.Redis.RefreshThroughAsync() ?? 0;

    /// <summary>Redis Streams when configured (milliseconds, no control-plane load); the HTTP long poll otherwise, or while Redis is down.</summary>
    private async Task<EdgeChangeBatch> NextBatchAsync(CancellationToken cancellationToken)
    {
        if (_redisFeed is null)
        {
            return await ChangesAsync(options.ControlPlane.LongPollSeconds, cancellationToken);
        }
        if (time.GetElapsedTime(_lastHttpRead) >= HttpReconcileInterval)
        {
            _lastHttpRead = time.GetTimestamp();
            return await ChangesAsync(0, cancellationToken);
        }
        try
        {
            var (batch, rejection) = await _redisFeed.NextAsync(Sequence, RedisWait, _feedTrust, cancellationToken);
            _viaRedis = true;
            if (rejection is null)
            {
                return batch;
            }
            Rejected(rejection);
            // The range from the authenticated feed instead: a forged entry never applies, the real change still does.
            _lastHttpRead = time.GetTimestamp();
            return await ChangesAsync(1, cancellationToken);
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            LogRedisFallback(logger, ex.Message);
            _viaRedis = false;
            return await ChangesAsync(1, cancellationToken);
        }
    }

    /// <summary>The control plane's HTTP feed after the current sequence; its answer marks the control plane reachable.</summary>
    private async Task<EdgeChangeBatch> ChangesAsync(int waitSeconds, CancellationToken cancellationToken)
    {
        var batch = await controlPlane.GetChangesAsync(Sequence, waitSeconds, cancellationToken);
        _controlPlaneUp = true;
        return batch;
    }

    /// <summary>Counted and logged once per entry (the same forged entry is met again on every read until it is trimmed).</summary>
    private void Rejected(FeedRejection rejection)
    {
        if (rejection.EntryId == _lastRejectedEntry)
        {
            return;
        }
        _lastRejectedEntry = rejection.EntryId;
        if (rejection.Reason == FeedRejectionReasons.NotTrustedWithoutKey)
        {
            LogFeedWithoutKey(logger, rejection.EntryId);
        }
        else
        {
            metrics.FeedRejected(rejection.Reason);
            LogFeedEntryRejected(logger, rejection.EntryId, rejection.Reason);
        }
        _feedKeyRefreshWanted |= rejection.Reason == FeedRejectionReasons.UnknownKey;
    }

    private bool FeedKeyRefreshDue()
    {
        if (!_feedKeyRefreshWanted || (_lastFeedKeyRefresh != long.MinValue && time.GetElapsedTime(_lastFeedKeyRefresh) < FeedKeyRefreshInterval))
        {
            return false;
        }
        _feedKeyRefreshWanted = false;
        _lastFeedKeyRefresh = time.GetTimestamp();
        return true;
    }

    internal void ApplySnapshot(EdgeSnapshot snapshot, long mirroredThrough = 0)
    {
        // Pushed API-key changes between the last applied change and this snapshot are not in it: cached key records
        // are refreshed once more before they are trusted for the pushed interval again.
        apiKeyChanges?.Resynchronized();
        var issuer = registry.AddOrGet(new IssuerOptions
        {
            Issuer = snapshot.Issuer.Issuer,
            Name = IssuerOptions.ControlPlaneName,
            Audiences = [.. snapshot.Issuer.Audiences],
            JwksUri = snapshot.Issuer.JwksUri,
        });
        if (!ReferenceEquals(issuer, _issuer) || _keys is null)
        {
            // Keys belong to their issuer instance: a new one (other audiences) starts from this snapshot's keys.
            _keys = new OrgKeySets(registry, issuer, time, logger);
        }
        _issuer = issuer;
        var refusedBefore = registry.Health.RefusedTotal;
        _keys.ApplyAll(snapshot.Issuer.Jwks);
        ApplyFeedKey(snapshot.FeedKey);
        var revoked = new List<RevokedId>();
        foreach (var record in snapshot.Revocations)
        {
            if (ToRevokedId(record) is { } id)
            {
                revoked.Add(id);
            }
            else if (record.Kind == RevocationKinds.SigningKey)
            {
                RemoveSigningKey(record.Value);
            }
        }
        if (snapshot.OrgSettings is { } orgSettings)
        {
            foreach (var refusal in orgLimits.Replace(orgSettings.Select(o => KeyValuePair.Create(o.OrgId, o.RateLimit))))
            {
                LogOrgRateLimitRefused(logger, refusal.Org, refusal.Text, refusal.Error);
            }
        }
        revocations.Replace(revoked, snapshot.Sequence, snapshot.RedisRevocations, mirroredThrough);
        // Keys last: a token verifies only once the revocations and limits it is checked against are in place. Published
        // first, a just-started edge admitted a revoked token between the two (the fault suite's edge restart caught it).
        _keys.PublishIfChanged();
        KeysRefreshed(issuer, refusedBefore);
        Volatile.Write(ref _lastContactTimestamp, time.GetTimestamp());
        _lastHttpRead = time.GetTimestamp();
        _hasSnapshot = true;
        LogSnapshot(logger, snapshot.Sequence, snapshot.Issuer.Issuer, revoked.Count);
    }

    /// <summary>The control plane's keys as a key-set refresh of its issuer: refused when any part of the update was.</summary>
    private void KeysRefreshed(TrustedIssuer issuer, long refusedBefore) =>
        metrics.Stages.KeyRefresh(issuer.Name, registry.Health.RefusedTotal > refusedBefore ? KeyRefreshResult.Refused : KeyRefreshResult.Ok);

    private void ApplyFeedKey(EdgeFeedKey? feedKey)
    {
        if (feedKey is null)
        {
            _feedTrust = FeedTrust.RevocationsOnly;
            return;
        }
        if (feedKey.Kid == _feedTrust.KeyId)
        {
            return;
        }
        if (EdgeFeedSignature.Import(feedKey) is { } key)
        {
            // The previous key is not disposed: a read in flight may still hold it; the GC releases it.
            _feedTrust = new FeedTrust(key, feedKey.Kid);
        }
        else
        {
            _feedTrust = FeedTrust.RevocationsOnly;
            LogFeedKeyUnusable(logger, feedKey.Kid, feedKey.Algorithm);
        }
    }

    /// <summary>Applies a batch in order; false when it does not follow on from the current sequence (take a snapshot).</summary>
    internal bool ApplyChanges(EdgeChangeBatch batch, long mirroredThrough = 0)
    {
        var revoked = new List<RevokedId>();
        var sequence = Sequence;
        var refusedBefore = registry.Health.RefusedTotal;
        var keysChanged = false;
        foreach (var change in batch.Changes)
        {
            if (change.Sequence <= sequence)
            {
                continue; // already applied: at-least-once delivery, applied once
            }
            if (change.Type == EdgeChangeTypes.Jwks && change.Jwks is { } jwks)
            {
                _keys?.ApplyAll(jwks);
                keysChanged = true;
            }
            else if (change.Type == EdgeChangeTypes.OrgKeys && change.OrgKeys is { } orgKeys)
            {
                _keys?.ApplyOrg(orgKeys.OrgId ?? "", orgKeys.Jwks);
                keysChanged = true;
            }
            else if (change.Type == EdgeChangeTypes.OrgRateLimit && change.OrgSettings is { } org)
            {
                ApplyOrgRateLimit(org);
            }
            else if (change.Type == EdgeChangeTypes.ApiKeyChanged && change.KeyId is { Length: > 0 } keyId)
            {
                apiKeyChanges?.Changed(keyId);
            }
            else if (change.Revocation is { } record)
            {
                if (ToRevokedId(record) is { } id)
                {
                    revoked.Add(id);
                }
                else if (record.Kind == RevocationKinds.SigningKey)
                {
                    RemoveSigningKey(record.Value);
                }
            }
            sequence = change.Sequence;
        }
        _keys?.PublishIfChanged();
        if (keysChanged && _issuer is { } issuer)
        {
            KeysRefreshed(issuer, refusedBefore);
        }
        if (sequence > Sequence)
        {
            revocations.Apply(revoked, sequence, mirroredThrough);
            LogApplied(logger, batch.Changes.Length, sequence);
        }
        return true;
    }

    /// <summary>A limit that does not parse is logged and skipped: the org keeps its last good limit and the feed goes on.</summary>
    private void ApplyOrgRateLimit(EdgeOrgSettings org)
    {
        if (orgLimits.TryApply(org.OrgId, org.RateLimit, out var refusal))
        {
            LogOrgRateLimitApplied(logger, org.OrgId, org.RateLimit ?? "none");
        }
        else
        {
            LogOrgRateLimitRefused(logger, refusal.Value.Org, refusal.Value.Text, refusal.Value.Error);
        }
    }

    private void RemoveSigningKey(string kid) => _keys?.Remove(kid);

    private static RevokedId? ToRevokedId(RevocationRecord record) => record.Kind switch
    {
        RevocationKinds.TokenId => new RevokedId(RevocationKind.TokenId, record.Value, record.ExpiresAt, Sequence: record.Sequence),
        RevocationKinds.SessionId => new RevokedId(RevocationKind.SessionId, record.Value, record.ExpiresAt, Sequence: record.Sequence),
        RevocationKinds.ApiKey => new RevokedId(RevocationKind.ApiKey, record.Value, record.ExpiresAt, Sequence: record.Sequence),
        RevocationKinds.UserNotBefore => new RevokedId(RevocationKind.UserNotBefore, record.Value, record.ExpiresAt, record.NotBefore ?? long.MaxValue, record.Sequence, record.OrgId),
        _ => null,
    };
}
