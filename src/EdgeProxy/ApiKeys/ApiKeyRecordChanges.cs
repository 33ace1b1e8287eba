namespace Authio.EdgeProxy.ApiKeys;

/// <summary>
/// Carries the edge-sync feed's API-key news to the API-key cache: a key whose record changed (a rotation), and a
/// feed that started over from a snapshot (changes may have been missed). Its own type because the authenticator
/// reads the feed's freshness, so the feed cannot hold the authenticator.
/// </summary>
internal sealed class ApiKeyRecordChanges
{
    private Action<string>? _changed;
    private Action? _resynchronized;

    public void Subscribe(Action<string> changed, Action resynchronized)
    {
        _changed = changed;
        _resynchronized = resynchronized;
    }

    /// <summary>Key <paramref name="keyId"/>'s record changed at the control plane.</summary>
    public void Changed(string keyId) => _changed?.Invoke(keyId);

    /// <summary>The feed took a snapshot: any key may have changed meanwhile.</summary>
    public void Resynchronized() => _resynchronized?.Invoke();
}
