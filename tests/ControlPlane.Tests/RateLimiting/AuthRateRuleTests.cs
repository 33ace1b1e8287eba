using Authio.ControlPlane.RateLimiting;

namespace Authio.ControlPlane.Tests.RateLimiting;

public sealed class AuthRateRuleTests
{
    [Theory]
    [InlineData("5/1m burst 10", 5, 60_000, 10)]
    [InlineData("20/1m", 20, 60_000, 20)]
    [InlineData("  100/500ms   BURST 150 ", 100, 500, 150)]
    [InlineData("1/24h", 1, 86_400_000, 1)]
    [InlineData("3/10s burst 1", 3, 10_000, 1)]
    public void Valid_rules_parse(string text, long count, long periodMs, long burst)
    {
        Assert.True(AuthRateRule.TryParse(text, out var rule, out var error), error);
        Assert.Equal(count, rule!.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(periodMs), rule.Period);
        Assert.Equal(burst, rule.Burst);
        Assert.Equal(rule.Period.Ticks / count, rule.Interval);
        Assert.Equal(rule.Interval * burst, rule.Tolerance);
    }

    [Theory]
    [InlineData("off")]
    [InlineData("OFF")]
    public void Off_turns_the_limit_off(string text)
    {
        Assert.True(AuthRateRule.TryParse(text, out var rule, out _));
        Assert.Null(rule);
    }

    [Theory]
    [InlineData("")]
    [InlineData("fast")]
    [InlineData("0/1m")]
    [InlineData("-1/1m")]
    [InlineData("5/1d")]
    [InlineData("5/25h")]
    [InlineData("5/m")]
    [InlineData("5/1m burst")]
    [InlineData("5/1m burst 0")]
    [InlineData("5/1m burst ten")]
    [InlineData("5/1m per ip")]
    [InlineData("20000000/1ms")]
    public void Invalid_rules_are_refused_with_the_reason(string text)
    {
        Assert.False(AuthRateRule.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }
}
