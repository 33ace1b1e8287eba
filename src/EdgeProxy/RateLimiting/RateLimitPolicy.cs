using System.Diagnostics.CodeAnalysis;
using System.Text;
using Authio.Shared.RateLimits;

namespace Authio.EdgeProxy.RateLimiting;

/// <summary>Whose requests share one bucket.</summary>
internal enum RateLimitScope
{
    /// <summary>The API key id, or the token's subject (the default).</summary>
    Credential,
    Subject,
    Org,
    Ip,
}

/// <summary>
/// One compiled limit: <c>&lt;count&gt;/&lt;period&gt;[ burst &lt;n&gt;][ per credential|subject|org|ip][ global]</c>.
/// Parsed once at configuration load; the request path only reads the precomputed GCRA constants and header values.
/// The instance is the bucket namespace: two routes with the same text still get separate buckets.
/// </summary>
internal sealed class RateLimitPolicy
{
    private RateLimitPolicy(string name, string text, long count, TimeSpan period, long burst, RateLimitScope scope, bool global)
    {
        Name = name;
        Text = text;
        Count = count;
        Period = period;
        Burst = burst;
        Scope = scope;
        Global = global;
        WindowSeconds = Math.Max(1, (long)Math.Ceiling(period.TotalSeconds));
        PolicyHeader = $"{SfString(name)};q={count};w={WindowSeconds}";
        HeaderPrefix = SfString(name) + ";r=";
        Headers = new RateLimitHeaderCache(HeaderPrefix);
    }

    /// <summary>Policy name in the RateLimit headers and the Redis key: the route id, <c>org</c> or <c>default</c>.</summary>
    public string Name { get; }
    /// <summary>The limit as written, normalized to single spaces.</summary>
    public string Text { get; }
    public long Count { get; }
    public TimeSpan Period { get; }
    /// <summary>Bucket capacity: requests admitted at once after a quiet period. Defaults to <see cref="Count"/>.</summary>
    public long Burst { get; }
    public RateLimitScope Scope { get; }
    /// <summary>Shared by the fleet through Redis (when <c>Edge:Redis</c> is set).</summary>
    public bool Global { get; }
    public long WindowSeconds { get; }
    /// <summary>Precomputed <c>RateLimit-Policy</c> value (draft-ietf-httpapi-ratelimit-headers, structured field).</summary>
    public string PolicyHeader { get; }
    /// <summary><c>"name";r=</c>, the constant start of the <c>RateLimit</c> header.</summary>
    public string HeaderPrefix { get; }

    /// <summary>Recently formatted <c>RateLimit</c> values of this limit (most responses repeat one: a full or an empty bucket).</summary>
    internal RateLimitHeaderCache Headers { get; }

    private const long MaxCapacityTicks = long.MaxValue / 4;

    private GcraConstants? _constants;
    private RateLimitPolicy? _share;

    /// <summary>GCRA constants for the process clock, computed on first use (one clock per process, so computed once).</summary>
    public GcraConstants Constants(long frequency)
    {
        var constants = _constants;
        if (constants is not null && constants.Frequency == frequency)
        {
            return constants;
        }
        var interval = Math.Max(1, (long)Math.Round(Period.TotalSeconds * frequency / Count));
        // Burst × interval can pass the long range ("1/24h burst 1000000000" on a 1 GHz clock is 8.6e22 ticks), which
        // wrapped to a negative capacity that refused every request: saturate at a quarter of the range (decades at
        // any clock rate), which leaves room for now + capacity + interval.
        var capacity = interval > MaxCapacityTicks / Burst ? MaxCapacityTicks : interval * Burst;
        return _constants = new GcraConstants(frequency, interval, capacity);
    }

    /// <summary><see cref="Share"/> for the configured fleet size, computed once.</summary>
    public RateLimitPolicy LocalShare(int edges) => _share ??= Share(edges);

    /// <summary>This limit divided among <paramref name="edges"/> edges: what one edge enforces alone while Redis is unreachable.</summary>
    public RateLimitPolicy Share(int edges) => edges <= 1
        ? new RateLimitPolicy(Name, Text, Count, Period, Burst, Scope, global: false)
        : new RateLimitPolicy(Name, Text, Math.Max(1, Count / edges), Period, Math.Max(1, Burst / edges), Scope, global: false);

    public override string ToString() => $"{Name}: {Text}";

    /// <summary>Parses the limit grammar (<see cref="RateLimitSpec"/>); on failure <paramref name="error"/> says what is wrong (without naming the source: callers do).</summary>
    public static bool TryParse(string name, string? text, [NotNullWhen(true)] out RateLimitPolicy? limit, [NotNullWhen(false)] out string? error)
    {
        if (!RateLimitSpec.TryParse(text, out var spec, out error))
        {
            limit = null;
            return false;
        }
        limit = FromSpec(name, spec);
        return true;
    }

    /// <summary>A new limit (and so new buckets) named <paramref name="name"/> for an already parsed spec.</summary>
    public static RateLimitPolicy FromSpec(string name, RateLimitSpec spec)
    {
        var scope = spec.Per switch
        {
            RateLimitPer.Subject => RateLimitScope.Subject,
            RateLimitPer.Org => RateLimitScope.Org,
            RateLimitPer.Ip => RateLimitScope.Ip,
            _ => RateLimitScope.Credential,
        };
        return new RateLimitPolicy(name, spec.Text, spec.Count, spec.Period, spec.Burst, scope, spec.Global);
    }

    /// <summary>An RFC 8941 sf-string: printable ASCII in quotes, with '"' and '\' escaped; anything else becomes '_'.</summary>
    private static string SfString(string value)
    {
        var builder = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            if (c is '"' or '\\')
            {
                builder.Append('\\').Append(c);
            }
            else
            {
                builder.Append(c is >= ' ' and <= '~' ? c : '_');
            }
        }
        return builder.Append('"').ToString();
    }
}

/// <summary>
/// A small direct-mapped cache of formatted <c>RateLimit</c> header values for one limit, so a response on a limited
/// route allocates no string when its (remaining, reset) pair was seen recently — the common case: callers under the
/// limit see a nearly full bucket, a caller at the limit an empty one. Entries are immutable and replaced whole.
/// </summary>
internal sealed class RateLimitHeaderCache(string prefix)
{
    private const int Slots = 16;
    private readonly Entry?[] _entries = new Entry?[Slots];

    private sealed record Entry(long Remaining, long Reset, string Value);

    public string Get(long remaining, long reset)
    {
        var slot = (int)((ulong)(remaining * 31 + reset) % Slots);
        if (Volatile.Read(ref _entries[slot]) is { } hit && hit.Remaining == remaining && hit.Reset == reset)
        {
            return hit.Value;
        }
        var value = string.Create(null, stackalloc char[64], $"{prefix}{remaining};t={reset}");
        Volatile.Write(ref _entries[slot], new Entry(remaining, reset, value));
        return value;
    }
}
