using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Authio.Shared.RateLimits;

/// <summary>Whose requests share one bucket.</summary>
public enum RateLimitPer
{
    /// <summary>The API key id, or the token's subject (the default).</summary>
    Credential,
    Subject,
    Org,
    Ip,
}

/// <summary>
/// One limit in the <c>Authio.RateLimit</c> grammar: <c>&lt;count&gt;/&lt;period&gt;[ burst &lt;n&gt;][ per credential|subject|org|ip][ global]</c>.
/// The one parser of that grammar: the edge compiles routes, <c>Edge:RateLimits:Default</c> and per-org limits from it, and
/// the control plane validates per-org limits with it before storing them.
/// </summary>
/// <param name="Text">The limit as written, normalized to single spaces.</param>
/// <param name="Burst">Bucket capacity: requests admitted at once after a quiet period. Defaults to <paramref name="Count"/>.</param>
/// <param name="Global">Shared by the fleet through Redis (when the edge has <c>Edge:Redis</c>).</param>
public sealed record RateLimitSpec(string Text, long Count, TimeSpan Period, long Burst, RateLimitPer Per, bool Global)
{
    public const string Grammar = "<count>/<period>[ burst <n>][ per credential|subject|org|ip][ global]";

    /// <summary>Parses the limit grammar; on failure <paramref name="error"/> says what is wrong (without naming the source: callers do).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out RateLimitSpec? spec, [NotNullWhen(false)] out string? error)
    {
        spec = null;
        error = null;
        var parts = (text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            error = $"is empty; expected '{Grammar}', e.g. '100/1s burst 200 per org'";
            return false;
        }
        var slash = parts[0].IndexOf('/', StringComparison.Ordinal);
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
        var per = RateLimitPer.Credential;
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
                        case "credential": per = RateLimitPer.Credential; break;
                        case "subject": per = RateLimitPer.Subject; break;
                        case "org": per = RateLimitPer.Org; break;
                        case "ip": per = RateLimitPer.Ip; break;
                        default:
                            error = $"'{text}': 'per' must be followed by credential, subject, org or ip, not '{parts[i]}'";
                            return false;
                    }
                    break;
                case "global" when !global:
                    global = true;
                    break;
                default:
                    error = $"'{text}': unexpected '{parts[i]}'; expected '{Grammar}' in that order";
                    return false;
            }
        }
        // One request per emission interval must be representable in clock ticks (100 ns on the coarsest clock).
        if (period.Ticks / count < 1)
        {
            error = $"'{text}': more than one request per 100 ns cannot be enforced";
            return false;
        }
        spec = new RateLimitSpec(string.Join(' ', parts), count, period, burst, per, global);
        return true;
    }

    public override string ToString() => Text;

    private static bool TryParsePeriod(ReadOnlySpan<char> text, out TimeSpan period)
    {
        period = default;
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }
        // Anything above 24 h in milliseconds is out of range whatever the unit (and would overflow TimeSpan).
        if (digits == 0 || !long.TryParse(text[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > 86_400_000)
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
}
