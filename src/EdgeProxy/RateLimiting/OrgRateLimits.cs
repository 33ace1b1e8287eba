using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Authio.EdgeProxy.RateLimiting;

/// <summary>
/// Per-org limits, consulted when a route has no <c>Authio.RateLimit</c> of its own. Called on the request path:
/// implementations must answer from memory without allocating. The control plane's change feed fills it.
/// </summary>
internal interface IOrgRateLimits
{
    bool TryGet(string org, [NotNullWhen(true)] out RateLimitPolicy? limit);
}

/// <summary>An org limit from the feed that did not parse; the org keeps its last good limit (or none).</summary>
internal readonly record struct OrgRateLimitRefusal(string Org, string Text, string Error);

/// <summary>
/// The default: an immutable org → limit map swapped whole on every change, so a request reads one consistent map
/// without locks or allocation. Filled by the edge-sync client (snapshot: <see cref="Replace"/>; change: <see cref="TryApply"/>).
/// An org whose limit text is unchanged keeps its <see cref="RateLimitPolicy"/> instance, and so its buckets; a new text gets
/// new buckets (a raised limit admits at once).
/// </summary>
internal sealed class InMemoryOrgRateLimits : IOrgRateLimits
{
    /// <summary>The policy name org limits carry in the RateLimit headers (and Redis keys).</summary>
    public const string PolicyName = "org";

    private readonly Lock _write = new();
    private volatile FrozenDictionary<string, RateLimitPolicy> _limits = FrozenDictionary<string, RateLimitPolicy>.Empty;

    public bool TryGet(string org, [NotNullWhen(true)] out RateLimitPolicy? limit) => _limits.TryGetValue(org, out limit);

    /// <summary>How many orgs have a limit.</summary>
    public int Count => _limits.Count;

    /// <summary>Sets (or with null text removes) an org's limit in the <c>Authio.RateLimit</c> grammar; throws on a bad limit, naming the org.</summary>
    public void Set(string org, string? text)
    {
        if (!TryApply(org, text, out var refusal))
        {
            throw new ArgumentException($"Rate limit of org '{org}' {refusal.Value.Error}.", nameof(text));
        }
    }

    /// <summary>
    /// Sets an org's limit, or removes it when <paramref name="text"/> is null or blank. A limit that does not parse
    /// changes nothing (the org keeps its last good limit) and comes back as <paramref name="refusal"/>.
    /// </summary>
    public bool TryApply(string org, string? text, [NotNullWhen(false)] out OrgRateLimitRefusal? refusal)
    {
        lock (_write)
        {
            var current = _limits;
            var next = new Dictionary<string, RateLimitPolicy>(current, StringComparer.Ordinal);
            if (!Put(next, current, org, text, out refusal))
            {
                return false;
            }
            _limits = next.ToFrozenDictionary(StringComparer.Ordinal);
            return true;
        }
    }

    /// <summary>
    /// Replaces every org's limit (a snapshot): orgs not listed lose theirs. An entry that does not parse keeps that org's
    /// last good limit; the refused entries are returned.
    /// </summary>
    public IReadOnlyList<OrgRateLimitRefusal> Replace(IEnumerable<KeyValuePair<string, string?>> limits)
    {
        var refusals = new List<OrgRateLimitRefusal>();
        lock (_write)
        {
            var current = _limits;
            var next = new Dictionary<string, RateLimitPolicy>(StringComparer.Ordinal);
            foreach (var (org, text) in limits)
            {
                if (!Put(next, current, org, text, out var refusal))
                {
                    refusals.Add(refusal.Value);
                    if (current.TryGetValue(org, out var lastGood))
                    {
                        next[org] = lastGood;
                    }
                }
            }
            _limits = next.ToFrozenDictionary(StringComparer.Ordinal);
        }
        return refusals;
    }

    private static bool Put(Dictionary<string, RateLimitPolicy> next, FrozenDictionary<string, RateLimitPolicy> current, string org, string? text,
        [NotNullWhen(false)] out OrgRateLimitRefusal? refusal)
    {
        refusal = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            next.Remove(org);
            return true;
        }
        if (!RateLimitPolicy.TryParse(PolicyName, text, out var limit, out var error))
        {
            refusal = new OrgRateLimitRefusal(org, text, error);
            return false;
        }
        // Same limit as before: keep the instance, and with it the org's buckets.
        next[org] = current.TryGetValue(org, out var existing) && existing.Text == limit.Text ? existing : limit;
        return true;
    }
}
