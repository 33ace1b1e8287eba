namespace Authio.ControlPlane.ApiKeys;

/// <summary>
/// "At most once per window per key" for audit events a caller can provoke at will (presenting a revoked key). Bounded:
/// an entry older than the window means the same as no entry, so when <c>capacity</c> keys are tracked the stale ones
/// are dropped; if every tracked key was seen within the window (a flood of distinct revoked keys), all are forgotten,
/// which at worst audits each of them once more. Memory never exceeds <c>capacity</c> entries.
/// </summary>
internal sealed class AuditThrottle(int capacity)
{
    private readonly Dictionary<string, long> _lastAudited = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _lastAudited.Count;
            }
        }
    }

    /// <summary>True (and remembers <paramref name="now"/>) when <paramref name="key"/> was not claimed within <paramref name="windowMs"/>.</summary>
    public bool TryClaim(string key, long now, long windowMs)
    {
        lock (_lock)
        {
            if (_lastAudited.TryGetValue(key, out var last) && now - last < windowMs)
            {
                return false;
            }
            if (!_lastAudited.ContainsKey(key) && _lastAudited.Count >= capacity)
            {
                foreach (var (k, at) in _lastAudited)
                {
                    if (now - at >= windowMs)
                    {
                        _lastAudited.Remove(k);
                    }
                }
                if (_lastAudited.Count >= capacity)
                {
                    _lastAudited.Clear();
                }
            }
            _lastAudited[key] = now;
            return true;
        }
    }
}
