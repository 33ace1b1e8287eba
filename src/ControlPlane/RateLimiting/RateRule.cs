using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Authio.ControlPlane.RateLimiting;

/// <summary>
/// One limit, <c>&lt;count&gt;/&lt;period&gt;[ burst &lt;n&gt;]</c> (the edge's grammar without its <c>per</c>/<c>global</c> parts),
/// e.g. <c>5/1m burst 10</c>: a sustained 5 requests a minute (one every 12 s), and up to 10 at once after a quiet spell.
/// Enforced as GCRA: a bucket is one "theoretical arrival time"; each admitted request pushes it one
/// <see cref="Interval"/> further, and a request is refused while that would put it more than <see cref="Tolerance"/>
/// ahead of now.
/// </summary>
internal sealed class RateRule
{
    private const string Grammar = "expected '<count>/<period>[ burst <n>]' (period in ms, s, m or h, e.g. '5/1m burst 10') or 'off'";

    private RateRule(string text, long count, TimeSpan period, long burst)
    {
        Text = text;
        Count = count;
        Period = period;
        Burst = burst;
        Interval = Math.Max(1, period.Ticks / count);
        Tolerance = Interval * burst;
    }

    /// <summary>The rule as written, normalized to single spaces.</summary>
    public string Text { get; }
    public long Count { get; }
    public TimeSpan Period { get; }
    /// <summary>Requests admitted at once after a quiet period. Defaults to <see cref="Count"/>.</summary>
    public long Burst { get; }
    /// <summary>Emission interval in <see cref="TimeSpan"/> ticks: one token refills this often.</summary>
    public long Interval { get; }
    /// <summary>How far ahead of now a bucket's arrival time may be after admitting a request (ticks).</summary>
    public long Tolerance { get; }

    public override string ToString() => Text;

    /// <summary>
    /// Parses the grammar. <c>off</c> (any case) is valid and yields a null <paramref name="rule"/>: nothing is limited.
    /// On failure <paramref name="error"/> says what is wrong, without naming the key (callers do).
    /// </summary>
    public static bool TryParse(string? text, out RateRule? rule, [NotNullWhen(false)] out string? error)
    {
        rule = null;
        error = null;
        var parts = (text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            error = "the value is empty; " + Grammar;
            return false;
        }
        if (parts is [var single] && single.Equals("off", StringComparison.OrdinalIgnoreCase)) return true;
        var slash = parts[0].IndexOf('/');
        if (slash <= 0 || !long.TryParse(parts[0].AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count is < 1 or > 1_000_000_000)
        {
            error = $"'{text}': the count before '/' must be a whole number from 1 to 1000000000; " + Grammar;
            return false;
        }
        if (!TryParsePeriod(parts[0].AsSpan(slash + 1), out var period))
        {
            error = $"'{text}': the period after '/' must be a whole number with a unit ms, s, m or h, from 1 ms to 24 h; " + Grammar;
            return false;
        }
        var burst = count;
        if (parts.Length == 3 && parts[1].Equals("burst", StringComparison.OrdinalIgnoreCase))
        {
            if (!long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out burst) || burst is < 1 or > 1_000_000_000)
            {
                error = $"'{text}': burst must be a whole number from 1 to 1000000000";
                return false;
            }
        }
        else if (parts.Length != 1)
        {
            error = $"'{text}': unexpected '{parts[1]}'; " + Grammar;
            return false;
        }
        if (period.Ticks / count < 1)
        {
            error = $"'{text}': more than one request per 100 ns cannot be enforced";
            return false;
        }
        rule = new RateRule(string.Join(' ', parts), count, period, burst);
        return true;
    }

    private static bool TryParsePeriod(ReadOnlySpan<char> text, out TimeSpan period)
    {
        period = default;
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits])) digits++;
        if (digits == 0 || digits > 8 || !long.TryParse(text[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return false;
        period = text[digits..] switch
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
