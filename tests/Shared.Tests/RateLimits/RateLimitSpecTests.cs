using System.Text.Json;
using Authio.Shared.RateLimits;
using Authio.Shared.Sync;

namespace Authio.Shared.Tests.RateLimits;

public sealed class RateLimitSpecTests
{
    [Theory]
    [InlineData("100/1s burst 200 per org global", "100/1s burst 200 per org global", 100, 1000, 200, RateLimitPer.Org, true)]
    [InlineData("  3/1m   burst 3  per org ", "3/1m burst 3 per org", 3, 60_000, 3, RateLimitPer.Org, false)]
    [InlineData("60/1h per subject", "60/1h per subject", 60, 3_600_000, 60, RateLimitPer.Subject, false)]
    [InlineData("5/500ms PER IP", "5/500ms PER IP", 5, 500, 5, RateLimitPer.Ip, false)]
    public void Valid_limits_parse_and_are_normalised_to_single_spaces(string text, string normalised, long count, long periodMs, long burst,
        RateLimitPer per, bool global)
    {
        Assert.True(RateLimitSpec.TryParse(text, out var spec, out var error), error);
        Assert.Equal(new RateLimitSpec(normalised, count, TimeSpan.FromMilliseconds(periodMs), burst, per, global), spec);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("10/99999999999999h")] // would overflow TimeSpan: refused, never thrown
    [InlineData("10/86400001ms")]
    [InlineData("10/25h")]
    [InlineData("100000000/1ms")] // more than one request per 100 ns
    [InlineData("10/1s burst 5 burst 6")]
    [InlineData("10/1s per team")]
    public void Bad_limits_are_refused_with_a_reason(string? text)
    {
        Assert.False(RateLimitSpec.TryParse(text, out var spec, out var error));
        Assert.Null(spec);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void Edge_sync_records_without_org_settings_still_parse()
    {
        // A control plane from before org settings: no org_settings on changes or the snapshot.
        var change = JsonSerializer.Deserialize<EdgeChange>("""{"seq":7,"type":"jwks","revocation":null,"jwks":{"keys":[]}}""")!;
        Assert.Null(change.OrgSettings);
        var snapshot = JsonSerializer.Deserialize<EdgeSnapshot>(
            """{"sequence":7,"issuer":{"issuer":"i","audiences":["a"],"jwks_uri":"u","jwks":{"keys":[]}},"revocations":[],"generated_at":"2026-01-01T00:00:00Z"}""")!;
        Assert.Null(snapshot.OrgSettings);
        var org = JsonSerializer.Deserialize<EdgeChange>("""{"seq":8,"type":"org_rate_limit","org_settings":{"org_id":"org_1","rate_limit":"3/1m"}}""")!;
        Assert.Equal(new EdgeOrgSettings("org_1", "3/1m"), org.OrgSettings);
    }
}
