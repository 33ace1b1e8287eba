using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.RateLimiting;
using Authio.Shared.Configuration;
using Microsoft.Extensions.Configuration;

namespace Authio.ControlPlane.Tests.RateLimiting;

public sealed class RateLimitOptionsTests
{
    private static ControlPlaneOptions Load(params (string Key, string Value)[] settings) =>
        OptionsLoader.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Fact]
    public void Defaults_are_the_documented_ones_and_valid()
    {
        var r = Load().RateLimits;
        Assert.True(r.Enabled);
        Assert.Equal("30/1m burst 60", r.SignIn.PerIp);
        Assert.Equal("5/1m burst 10", r.SignIn.PerAccount);
        Assert.Equal("120/1m burst 240", r.Refresh.PerIp);
        Assert.Equal("20/1m burst 40", r.Refresh.PerAccount);
        Assert.Equal("10/1m burst 20", r.Password.PerIp);
        Assert.Equal("5/5m burst 5", r.Password.PerAccount);
        Assert.Equal(50_000, r.MaxKeysPerLimit);
        foreach (var text in new[] { r.SignIn.PerIp, r.SignIn.PerAccount, r.Refresh.PerIp, r.Refresh.PerAccount, r.Password.PerIp, r.Password.PerAccount })
        {
            Assert.True(AuthRateRule.TryParse(text, out var rule, out _) && rule is not null);
        }
    }

    [Fact]
    public void The_old_per_minute_setting_still_sets_the_per_address_limits_nobody_set_explicitly()
    {
        var r = Load(("ControlPlane:RateLimit:AuthPerMinute", "7"), ("ControlPlane:RateLimits:Password:PerIp", "9/1m")).RateLimits;
        Assert.Equal("7/1m burst 7", r.SignIn.PerIp);
        Assert.Equal("7/1m burst 7", r.Refresh.PerIp);
        Assert.Equal("9/1m", r.Password.PerIp);
        Assert.Equal("5/1m burst 10", r.SignIn.PerAccount);
    }

    [Theory]
    [InlineData("--ControlPlane:RateLimits:SignIn:PerIp=fast", "ControlPlane:RateLimits:SignIn:PerIp")]
    [InlineData("--ControlPlane:RateLimits:SignIn:PerAccount=5/1m burst", "ControlPlane:RateLimits:SignIn:PerAccount")]
    [InlineData("--ControlPlane:RateLimits:Refresh:PerIp=0/1m", "ControlPlane:RateLimits:Refresh:PerIp")]
    [InlineData("--ControlPlane:RateLimits:Refresh:PerAccount=", "ControlPlane:RateLimits:Refresh:PerAccount")]
    [InlineData("--ControlPlane:RateLimits:Password:PerIp=5/1d", "ControlPlane:RateLimits:Password:PerIp")]
    [InlineData("--ControlPlane:RateLimits:Password:PerAccount=5 per minute", "ControlPlane:RateLimits:Password:PerAccount")]
    [InlineData("--ControlPlane:RateLimits:MaxKeysPerLimit=10", "ControlPlane:RateLimits:MaxKeysPerLimit")]
    [InlineData("--ControlPlane:RateLimit:AuthPerMinute=0", "ControlPlane:RateLimit:AuthPerMinute")]
    public async Task A_bad_rate_limit_stops_startup_naming_the_key(string arg, string key)
    {
        var dir = Path.Combine(Path.GetTempPath(), "authio-cfg-" + Guid.NewGuid().ToString("N"));
        try
        {
            var ex = await Assert.ThrowsAsync<ConfigurationException>(async () =>
            {
                var app = ControlPlaneApp.Build(["--urls=http://127.0.0.1:0", "--ControlPlane:AdminUrls=http://127.0.0.1:0", $"--ControlPlane:DataDirectory={dir}", arg]);
                await ControlPlaneApp.PrepareAsync(app);
            });
            Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
