namespace Authio.ControlPlane.Diagnostics;

/// <summary>Whether the Redis publisher's last round reached Redis; unknown (false) until its first round.</summary>
internal sealed class RedisHealth
{
    private volatile bool _reachable;
    private volatile string? _error;

    public bool Reachable => _reachable;

    /// <summary>The last failure's message (Redis' own, no secrets), for /readyz.</summary>
    public string? Error => _error;

    public void Up()
    {
        _reachable = true;
        _error = null;
    }

    public void Down(string error)
    {
        _reachable = false;
        _error = error;
    }
}
