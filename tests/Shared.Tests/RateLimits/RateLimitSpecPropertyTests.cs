using Authio.Shared.RateLimits;
using CsCheck;

namespace Authio.Shared.Tests.RateLimits;

/// <summary>Properties of the rate-limit grammar: every limit prints back to itself, and no text makes the parser throw.</summary>
public sealed class RateLimitSpecPropertyTests
{
    private static readonly (string Unit, long Milliseconds)[] Units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];

    /// <summary>Any limit in range: count, period (value and unit), optional burst, scope and global, with random spacing and case.</summary>
    private static readonly Gen<(string Text, long Count, long PeriodMs, long Burst, RateLimitPer Per, bool Global, bool Enforceable)> Limits =
        Gen.Select(Gen.Long[1, 1_000_000_000], Gen.Int[0, 3], Gen.Long[1, 86_400_000], Gen.Long[0, 1_000_000_000],
            Gen.Int[0, 4], Gen.Bool, Gen.OneOf(" ", "  ", " \t "), Gen.Bool,
            (count, unitIndex, rawValue, burst, perIndex, global, space, upper) =>
        {
            var (unit, ms) = Units[unitIndex];
            var value = Math.Max(1, rawValue / ms);
            var per = perIndex == 0 ? (RateLimitPer?)null : (RateLimitPer)(perIndex - 1);
            var words = new List<string> { $"{count}/{value}{unit}" };
            if (burst > 0)
            {
                words.Add("burst");
                words.Add(burst.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            if (per is { } p)
            {
                words.Add(upper ? "PER" : "per");
                words.Add(upper ? p.ToString().ToUpperInvariant() : p.ToString().ToLowerInvariant());
            }
            if (global)
            {
                words.Add(upper ? "Global" : "global");
            }
            var periodMs = value * ms;
            return (space + string.Join(space, words) + space, count, periodMs, burst > 0 ? burst : count, per ?? RateLimitPer.Credential, global,
                TimeSpan.FromMilliseconds(periodMs).Ticks / count >= 1);
        });

    [Fact]
    public void Every_limit_in_range_parses_to_what_was_written_and_prints_back_to_itself() =>
        Limits.Sample(x =>
        {
            var parsed = RateLimitSpec.TryParse(x.Text, out var spec, out var error);
            Assert.Equal(x.Enforceable, parsed);
            if (!parsed)
            {
                Assert.Contains("100 ns", error); // the only refusal of an in-range limit: finer than the clock
                return;
            }
            Assert.Equal((x.Count, TimeSpan.FromMilliseconds(x.PeriodMs), x.Burst, x.Per, x.Global), (spec!.Count, spec.Period, spec.Burst, spec.Per, spec.Global));
            Assert.True(RateLimitSpec.TryParse(spec.ToString(), out var again, out _));
            Assert.Equal(spec, again);
        }, iter: 5000, threads: 1);

    private static readonly Gen<string> Words = Gen.OneOf(
        Gen.OneOf("/", " ", "burst", "per", "global", "org", "ip", "subject", "credential", "ms", "s", "m", "h", "0", "1", "-1",
            "1000000000", "1000000001", "86400000", "99999999999999999999", "٣", "１", "\t", "\u00a0", ".", "e3", "+5"),
        Gen.String[Gen.Char, 0, 6],
        Gen.Long.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void Garbage_never_throws_and_whatever_parses_round_trips() =>
        Gen.String[Gen.Char, 0, 0].Select(Words.Array[0, 12], (_, words) => string.Concat(words)).Sample(text =>
        {
            if (RateLimitSpec.TryParse(text, out var spec, out var error))
            {
                Assert.True(spec.Count is >= 1 and <= 1_000_000_000 && spec.Burst is >= 1 and <= 1_000_000_000);
                Assert.InRange(spec.Period, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(24));
                Assert.True(RateLimitSpec.TryParse(spec.ToString(), out var again, out _));
                Assert.Equal(spec, again);
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error));
            }
        }, iter: 20_000, threads: 1);
}
