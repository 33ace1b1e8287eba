using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

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
internal sealed class RateLimit
{
    private RateLimit(string name, string text, long count, TimeSpan period, long burst, RateLimitScope scope, bool global)
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

    private GcraConstants? _constants;
    private RateLimit? _share;

    /// <summary>GCRA constants for the process clock, computed on first use (one clock per process, so computed once).</summary>
    public GcraConstants Constants(long frequency)
    {
        var constants = _constants;
        if (constants is not null && constants.Frequency == frequency)
        {
            return constants;
        }
        var interval = Math.Max(1, (long)Math.Round(Period.TotalSeconds * frequency / Count));
        return _constants = new GcraConstants(frequency, interval, interval * Burst);
    }

    /// <summary><see cref="Share"/> for the configured fleet size, computed once.</summary>
    public RateLimit LocalShare(int edges) => _share ??= Share(edges);

    /// <summary>This limit divided among <paramref name="edges"/> edges: what one edge enforces alone while Redis is unreachable.</summary>
    public RateLimit Share(int edges) => edges <= 1
        ? new RateLimit(Name, Text, Count, Period, Burst, Scope, global: false)
        : new RateLimit(Name, Text, Math.Max(1, Count / edges), Period, Math.Max(1, Burst / edges), Scope, global: false);

    public override string ToString() => $"{Name}: {Text}";

    /// <summary>Parses the limit grammar; on failure <paramref name="error"/> says what is wrong (without naming the source: callers do).</summary>
    public static bool TryParse(string name, string? text, [NotNullWhen(true)] out RateLimit? limit, [NotNullWhen(false)] out string? error)
    {
        limit = null;
        error = null;
        var parts = (text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            error = "is empty; expected '<count>/<period>[ burst <n>][ per credential|subject|org|ip][ global]', e.g. '100/1s burst 200 per org'";
            return false;
        }
        var slash = parts[0].IndexOf('/');
        if (slash <= 0
            || !long.TryParse(parts[0].AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count is < 1 or > 1_000_000_000)
        {
            error = $"'{text}': the count before '/' must be a whole number from 1 to 1000000000";
            return false;
        }
        if (!TryParsePeriod(parts[0].AsSpan(slash + 1), out var period))
        {
            error = $"'{text}': the period after '/' must be a number with a unit ms, s, m or h (e.g. 500ms, 1s, 1m), from 1 ms to 24 h";
            return false;
        }
        var burst = count;
        var scope = RateLimitScope.Credential;
        var global = false;
        bool seenBurst = false, seenPer = false;
        for (var i = 1; i < parts.Length; i++)
        {
            switch (parts[i].ToLowerInvariant())
            {
                case "burst" when !seenBurst && !seenPer && !global && i + 1 < parts.Length:
                    if (!long.TryParse(parts[++i], NumberStyles.None, CultureInfo.InvariantCulture, out burst) || burst is < 1 or > 1_000_000_000)
                    {
                        error = $"'{text}': burst must be a whole number from 1 to 1000000000";
                        return false;
                    }
                    seenBurst = true;
                    break;
                case "per" when !seenPer && !global && i + 1 < parts.Length:
                    seenPer = true;
                    switch (parts[++i].ToLowerInvariant())
                    {
                        case "credential": scope = RateLimitScope.Credential; break;
                        case "subject": scope = RateLimitScope.Subject; break;
                        case "org": scope = RateLimitScope.Org; break;
                        case "ip": scope = RateLimitScope.Ip; break;
                        default:
                            error = $"'{text}': 'per' must be followed by credential, subject, org or ip, not '{parts[i]}'";
                            return false;
                    }
                    break;
                case "global" when !global:
                    global = true;
                    break;
                default:
                    error = $"'{text}': unexpected '{parts[i]}'; expected '<count>/<period>[ burst <n>][ per credential|subject|org|ip][ global]' in that order";
                    return false;
            }
        }
        // One request per emission interval must be representable in clock ticks (100 ns on the coarsest clock).
        if (period.Ticks / count < 1)
        {
            error = $"'{text}': more than one request per 100 ns cannot be enforced";
            return false;
        }
        limit = new RateLimit(name, string.Join(' ', parts), count, period, burst, scope, global);
        return true;
    }

    private static bool TryParsePeriod(ReadOnlySpan<char> text, out TimeSpan period)
    {
        period = default;
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }
        if (digits == 0 || !long.TryParse(text[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }
        var unit = text[digits..];
        period = unit switch
        {
            "ms" => TimeSpan.FromMilliseconds(value),
            "s" => TimeSpan.FromSeconds(value),
            "m" => TimeSpan.FromMinutes(value),
            "h" => TimeSpan.FromHours(value),
            _ => TimeSpan.Zero,
        };
        return period >= TimeSpan.FromMilliseconds(1) && period <= TimeSpan.FromHours(24);
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
