using Authio.EdgeProxy.Authentication;

namespace Authio.EdgeProxy.Revocation;

/// <summary>
/// The revocation stage: the current <see cref="RevocationSet"/>, swapped whole on every applied change. The edge-sync
/// feed calls <see cref="Replace"/> and <see cref="Apply"/>; the hot path only reads. With <paramref name="redis"/> and a
/// control plane that mirrors the exact set there, bloom positives are settled in Redis (<see cref="ConfirmAsync"/>).
/// </summary>
internal sealed class RevocationStage(TimeProvider time, int capacity = RevocationStage.DefaultCapacity,
    double falsePositiveRate = RevocationStage.DefaultFalsePositiveRate, RedisRevocations? redis = null) : IRevocationCheck
{
    public const int DefaultCapacity = 100_000;
    public const double DefaultFalsePositiveRate = 0.001;

    private readonly Lock _writeLock = new();
    private volatile RevocationSet _current = RevocationSet.Empty(capacity, falsePositiveRate);

    public RevocationSet Current => _current;

    /// <summary>Raised after every applied snapshot or change (on the feed's thread): live upgraded connections are re-checked.</summary>
    public event Action? Changed;

    /// <summary>The Redis-held exact set, when this edge has one configured (whether the control plane fills it or not).</summary>
    public RedisRevocations? Redis => redis;

    public RevocationVerdict Check(EdgeIdentity identity) => _current.Check(identity, time.GetUtcNow().ToUnixTimeSeconds());

    public ValueTask<RevocationVerdict> ConfirmAsync(EdgeIdentity identity, CancellationToken cancellationToken)
    {
        var set = _current;
        var verdict = set.Check(identity, time.GetUtcNow().ToUnixTimeSeconds());
        return verdict != RevocationVerdict.Unconfirmed || redis is null ? new(verdict) : redis.ConfirmAsync(identity, set, cancellationToken);
    }

    /// <summary>
    /// Replaces the whole state (a snapshot from the control plane). With <paramref name="remoteExact"/> only the ids
    /// Redis may not hold yet (above <paramref name="mirroredThrough"/>) are kept exactly in memory.
    /// </summary>
    public void Replace(IReadOnlyCollection<RevokedId> all, long sequence, bool remoteExact = false, long mirroredThrough = 0)
    {
        lock (_writeLock)
        {
            _current = RevocationSet.Empty(Math.Max(capacity, all.Count * 2), falsePositiveRate, remoteExact && redis is not null)
                .With(all, sequence, time.GetUtcNow().ToUnixTimeSeconds(), falsePositiveRate, mirroredThrough);
        }
        Changed?.Invoke();
    }

    /// <summary>Drops from the in-memory tail what Redis is now known to hold (nothing else changes).</summary>
    public void Prune(long mirroredThrough)
    {
        lock (_writeLock)
        {
            if (_current.RemoteExact && mirroredThrough > _current.MirroredThrough)
            {
                _current = _current.With([], _current.Sequence, time.GetUtcNow().ToUnixTimeSeconds(), falsePositiveRate, mirroredThrough);
            }
        }
    }

    public void Apply(IReadOnlyCollection<RevokedId> added, long sequence, long mirroredThrough = 0)
    {
        lock (_writeLock)
        {
            _current = _current.With(added, sequence, time.GetUtcNow().ToUnixTimeSeconds(), falsePositiveRate, mirroredThrough);
        }
        Changed?.Invoke();
    }
}
