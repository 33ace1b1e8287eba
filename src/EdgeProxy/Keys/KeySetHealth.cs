namespace Authio.EdgeProxy.Keys;

/// <summary>
/// Key sets this edge was sent and could not take (a bad JWK, over a bound): the last good keys stay in use, and the
/// refusal is reported on /readyz (with its reason) and in metrics until a later valid update of the same scope replaces
/// it. Scope: an org id, <c>""</c> for the control plane's keys without an org, or <c>"*"</c> for a whole key set.
/// </summary>
internal sealed class KeySetHealth
{
    public const string WholeSet = "*";

    private readonly Lock _lock = new();
    private Dictionary<string, KeySetRefusal> _refused = new(StringComparer.Ordinal);
    private long _total;

    /// <summary>Refusals still standing, by scope.</summary>
    public IReadOnlyCollection<KeySetRefusal> Refused
    {
        get
        {
            lock (_lock)
            {
                return [.. _refused.Values];
            }
        }
    }

    public int RefusedCount
    {
        get
        {
            lock (_lock)
            {
                return _refused.Count;
            }
        }
    }

    /// <summary>Key-set updates refused since start.</summary>
    public long RefusedTotal => Interlocked.Read(ref _total);

    public void Refuse(string scope, string reason, DateTimeOffset at)
    {
        Interlocked.Increment(ref _total);
        lock (_lock)
        {
            _refused[scope] = new KeySetRefusal(scope, reason, at);
        }
    }

    /// <summary>A valid update of <paramref name="scope"/> arrived; a whole set (<see cref="WholeSet"/>) clears every scope.</summary>
    public void Accepted(string scope)
    {
        lock (_lock)
        {
            if (scope == WholeSet)
            {
                _refused = new(StringComparer.Ordinal);
            }
            else
            {
                _refused.Remove(scope);
            }
        }
    }
}

internal sealed record KeySetRefusal(string Scope, string Reason, DateTimeOffset At);
