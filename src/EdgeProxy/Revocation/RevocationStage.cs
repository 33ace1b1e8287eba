using System.Diagnostics;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Revocation;

/// <summary>
/// The revocation stage: the current <see cref="RevocationSet"/>, swapped whole on every applied change. The edge-sync
/// feed calls <see cref="Replace"/> and <see cref="Apply"/>; the hot path only reads. With a remote exact set
/// (<see cref="IRemoteRevocationSet"/>, Redis) and a control plane that mirrors the exact set there, bloom positives
/// are settled remotely (<see cref="ConfirmAsync"/>).
/// </summary>
internal sealed class RevocationStage : IRevocationCheck
{
    private readonly TimeProvider _time;
    private readonly int _capacity;
    private readonly double _falsePositiveRate;
    private readonly IRemoteRevocationSet _remote;
    private readonly Lock _writeLock = new();
    private volatile RevocationSet _current;
    private readonly StageMetrics? _metrics;

    /// <summary>Sized by <c>Edge:Revocation</c>, with the remote set registered (or <see cref="NoRemoteRevocations"/>).</summary>
    public RevocationStage(TimeProvider time, RevocationOptions options, IRemoteRevocationSet remote, EdgeMetrics? metrics = null)
        : this(time, options.Capacity, options.FalsePositiveRate, remote)
    {
        _metrics = metrics?.Stages;
    }

    /// <summary>The default sizing, no remote set.</summary>
    public RevocationStage(TimeProvider time)
        : this(time, new RevocationOptions(), NoRemoteRevocations.Instance)
    {
    }

    public RevocationStage(TimeProvider time, int capacity, double falsePositiveRate, IRemoteRevocationSet? redis)
    {
        _time = time;
        _capacity = capacity;
        _falsePositiveRate = falsePositiveRate;
        _remote = redis ?? NoRemoteRevocations.Instance;
        _current = RevocationSet.Empty(capacity, falsePositiveRate);
    }

    public RevocationSet Current => _current;

    /// <summary>Raised after every applied snapshot or change (on the feed's thread): live upgraded connections are re-checked.</summary>
    public event Action? Changed;

    /// <summary>The Redis-held exact set (<see cref="NoRemoteRevocations"/> when none is configured; whether the control plane fills it or not).</summary>
    public IRemoteRevocationSet Redis => _remote;

    public RevocationVerdict Check(EdgeIdentity identity)
    {
        var set = _current;
        if (Volatile.Read(ref identity.CleanInRevocationGeneration) == set.Generation)
        {
            return RevocationVerdict.Clean; // this snapshot's filter passed it before, and time cannot revoke it
        }
        var verdict = set.Check(identity, _time.GetUtcNow().ToUnixTimeSeconds(), out var positiveAt);
        if (positiveAt == 0)
        {
            // No filter positive: clean, remembered (a positive is settled again every time, so its metrics count every request).
            Volatile.Write(ref identity.CleanInRevocationGeneration, set.Generation);
        }
        else if (_metrics is { } metrics)
        {
            // Settled in memory (the exact tail) unless it is left to the remote set (ConfirmAsync).
            metrics.FilterPositive();
            if (verdict != RevocationVerdict.Unconfirmed)
            {
                metrics.Confirmed(ConfirmationSource.Memory,
                    verdict == RevocationVerdict.Revoked ? ConfirmationResult.Revoked : ConfirmationResult.Clean, positiveAt);
            }
        }
        return verdict;
    }

    public ValueTask<RevocationVerdict> ConfirmAsync(EdgeIdentity identity, CancellationToken cancellationToken)
    {
        var set = _current;
        var verdict = set.Check(identity, _time.GetUtcNow().ToUnixTimeSeconds());
        if (verdict != RevocationVerdict.Unconfirmed || !_remote.Configured)
        {
            return new(verdict);
        }
        if (_metrics is null)
        {
            return _remote.ConfirmAsync(identity, set, cancellationToken);
        }
        var started = Stopwatch.GetTimestamp();
        return TimedAsync(_remote.ConfirmAsync(identity, set, cancellationToken), _metrics, started);
    }

    private static async ValueTask<RevocationVerdict> TimedAsync(ValueTask<RevocationVerdict> confirming, StageMetrics metrics, long started)
    {
        var verdict = await confirming;
        metrics.Confirmed(ConfirmationSource.Redis, verdict switch
        {
            RevocationVerdict.Revoked => ConfirmationResult.Revoked,
            RevocationVerdict.Clean => ConfirmationResult.Clean,
            _ => ConfirmationResult.Error,
        }, started);
        return verdict;
    }

    /// <summary>
    /// Replaces the whole state (a snapshot from the control plane). With <paramref name="remoteExact"/> only the ids
    /// Redis may not hold yet (above <paramref name="mirroredThrough"/>) are kept exactly in memory.
    /// </summary>
    public void Replace(IReadOnlyCollection<RevokedId> all, long sequence, bool remoteExact = false, long mirroredThrough = 0)
    {
        lock (_writeLock)
        {
            _current = RevocationSet.Empty(Math.Max(_capacity, all.Count * 2), _falsePositiveRate, remoteExact && _remote.Configured)
                .With(all, sequence, _time.GetUtcNow().ToUnixTimeSeconds(), _falsePositiveRate, mirroredThrough);
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
                _current = _current.With([], _current.Sequence, _time.GetUtcNow().ToUnixTimeSeconds(), _falsePositiveRate, mirroredThrough);
            }
        }
    }

    public void Apply(IReadOnlyCollection<RevokedId> added, long sequence, long mirroredThrough = 0)
    {
        lock (_writeLock)
        {
            _current = _current.With(added, sequence, _time.GetUtcNow().ToUnixTimeSeconds(), _falsePositiveRate, mirroredThrough);
        }
        Changed?.Invoke();
    }
}
