using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Authio.EdgeProxy.RateLimiting;

/// <summary>
/// Per-org limits, consulted when a route has no <c>Authio.RateLimit</c> of its own. Called on the request path:
/// implementations must answer from memory without allocating. The control plane's change feed will fill it.
/// </summary>
internal interface IOrgRateLimits
{
    bool TryGet(string org, [NotNullWhen(true)] out RateLimit? limit);
}

/// <summary>The default: an in-memory map, empty until something (a test, later the control-plane feed) sets limits.</summary>
internal sealed class InMemoryOrgRateLimits : IOrgRateLimits
{
    private readonly ConcurrentDictionary<string, RateLimit> _limits = new(StringComparer.Ordinal);

    public bool TryGet(string org, [NotNullWhen(true)] out RateLimit? limit) => _limits.TryGetValue(org, out limit);

    /// <summary>Sets (or with null text removes) an org's limit in the <c>Authio.RateLimit</c> grammar; throws on a bad limit, naming the org.</summary>
    public void Set(string org, string? text)
    {
        if (text is null)
        {
            _limits.TryRemove(org, out _);
            return;
        }
        if (!RateLimit.TryParse("org", text, out var limit, out var error))
        {
            throw new ArgumentException($"Rate limit of org '{org}' {error}.", nameof(text));
        }
        _limits[org] = limit;
    }
}
