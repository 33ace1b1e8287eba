using Authio.ControlPlane.Hosting;
using Authio.Shared.Configuration;

namespace Authio.ControlPlane.Tests;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("--ControlPlane:Passwords:BcryptCost=9", "ControlPlane:Passwords:BcryptCost")]
    [InlineData("--ControlPlane:MasterKey=c2hvcnQ=", "ControlPlane:MasterKey")]
    [InlineData("--ControlPlane:Bootstrap:OrgName=Acme", "ControlPlane:Bootstrap")]
    [InlineData("--ControlPlane:Tokens:AccessTokenTtl=02:00:00", "ControlPlane:Tokens:MaxAccessTokenTtl")]
    [InlineData("--ControlPlane:Issuer=not a url", "ControlPlane:Issuer")]
    [InlineData("--ControlPlane:Audit:RetentionDays=6", "ControlPlane:Audit:RetentionDays")]
    [InlineData("--ControlPlane:Audit:RetentionDays=3651", "ControlPlane:Audit:RetentionDays")]
    [InlineData("--ControlPlane:Sessions:IdleTimeout=31.00:00:00", "ControlPlane:Sessions:IdleTimeout")]
    [InlineData("--ControlPlane:Limits:MaxRequestBodyBytes=100", "ControlPlane:Limits:MaxRequestBodyBytes")]
    [InlineData("--ControlPlane:ApiKeys:EdgeOrgIds:0=", "ControlPlane:ApiKeys:EdgeOrgIds")]
    [InlineData("--ControlPlane:Operators:0=bob", "ControlPlane:Operators")]
    [InlineData("--ControlPlane:Webhooks:Timeout=00:01:00", "ControlPlane:Webhooks:Timeout")]
    [InlineData("--ControlPlane:Webhooks:MaxBackoff=00:00:01", "ControlPlane:Webhooks:MaxBackoff")]
    [InlineData("--ControlPlane:Webhooks:MaxConcurrencyPerEndpoint=0", "ControlPlane:Webhooks:MaxConcurrencyPerEndpoint")]
    [InlineData("--ControlPlane:Risk:StepUpAbove=100", "ControlPlane:Risk:StepUpAbove")]
    [InlineData("--ControlPlane:Risk:StepUpAbove=-1", "ControlPlane:Risk:StepUpAbove")]
    [InlineData("--ControlPlane:Risk:StuffingThreshold=2", "ControlPlane:Risk:StuffingThreshold")]
    [InlineData("--ControlPlane:Risk:StuffingWindow=02:00:00", "ControlPlane:Risk:StuffingWindow")]
    [InlineData("--ConnectionStrings:ControlPlane=Host=x;Bogus Key=1", "ConnectionStrings:ControlPlane")]
    [InlineData("--ControlPlane:Bootstrap:OrgName=A --ControlPlane:Bootstrap:AdminEmail=a@b.c --ControlPlane:Bootstrap:AdminPassword=weak", "ControlPlane:Bootstrap:AdminPassword")]
    public async Task Bad_configuration_stops_startup_naming_the_key(string arg, string key)
    {
        var dir = Path.Combine(Path.GetTempPath(), "authio-cfg-" + Guid.NewGuid().ToString("N"));
        try
        {
            var ex = await Assert.ThrowsAsync<ConfigurationException>(async () =>
            {
                var app = ControlPlaneApp.Build(["--urls=http://127.0.0.1:0", "--ControlPlane:AdminUrls=http://127.0.0.1:0", $"--ControlPlane:DataDirectory={dir}", .. arg.Split(' ')]);
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
