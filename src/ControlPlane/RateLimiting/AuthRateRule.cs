using System.Diagnostics.CodeAnalysis;
using Authio.Shared.RateLimits;

namespace Authio.ControlPlane.RateLimiting;

/// <summary>
/// One limit of the credential endpoints (<c>ControlPlane:RateLimits:*</c>), compiled for <see cref="AuthRateLimiter"/>.
/// Not a grammar of its own: the text is a <see cref="RateLimitSpec"/> (the one limit grammar, shared with the edge)
/// without its <c>per</c>/<c>global</c> parts, e.g. <c>5/1m burst 10</c>: a sustained 5 requests a minute (one every
/// 12 s), and up to 10 at once after a quiet spell. Enforced as GCRA: a bucket is one "theoretical arrival time"; each
/// admitted request pushes it one <see cref="Interval"/> further, and a request is refused while that would put it
/// more than <see cref="Tolerance"/> ahead of now.
/// </summary>
internal sealed class AuthRateRule
{
    private const string Grammar = "expected '<count>/<period>[ burst <n>]' (period in ms, s, m or h, e.g. '5/1m burst 10') or 'off'";

    private AuthRateRule(string text, long count, TimeSpan period, long burst)
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
    /// Parses the grammar with the edge's one parser (<see cref="RateLimitSpec"/>), refusing its <c>per</c>/<c>global</c>
    /// parts (these limits are keyed by the caller: address or account). <c>off</c> (any case) is valid and yields a null
    /// <paramref name="rule"/>: nothing is limited. On failure <paramref name="error"/> says what is wrong, without naming
    /// the key (callers do).
    /// </summary>
    public static bool TryParse(string? text, out AuthRateRule? rule, [NotNullWhen(false)] out string? error)
    {
        rule = null;
        error = null;
        if (string.Equals(text?.Trim(), "off", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (!RateLimitSpec.TryParse(text, out var spec, out var specError))
        {
            error = (string.IsNullOrWhiteSpace(text) ? "the value is empty" : specError) + "; " + Grammar;
            return false;
        }
        if (spec.Global || spec.Text.Split(' ').Contains("per", StringComparer.OrdinalIgnoreCase))
        {
            error = $"'{text}': unexpected '{(spec.Global ? "global" : "per")}' (these limits are per address or per account already); " + Grammar;
            return false;
        }
        rule = new AuthRateRule(spec.Text, spec.Count, spec.Period, spec.Burst);
        return true;
    }
}
