using System.Net;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Authio.EdgeProxy.Tests.Policy;

/// <summary>A route reload that maps a new claim: tokens validated (and cached) before it still forward the right value.</summary>
public sealed class ClaimHeaderReloadTests
{
    [Fact]
    public async Task A_token_cached_before_a_reload_gets_the_newly_mapped_claim()
    {
        await using var upstream = new RecordingUpstream();
        await upstream.StartAsync();
        await using var jwks = new JwksServer();
        await jwks.StartAsync();
        var key = TestKey.Es256("key-1");
        jwks.Publish(key);
        // A claim name no other test maps: claim paths are registered process-wide.
        var claim = "region_" + Guid.NewGuid().ToString("N")[..8];
        var dir = Directory.CreateTempSubdirectory("authio-claims");
        var file = Path.Combine(dir.FullName, "routes.json");
        await File.WriteAllTextAsync(file, RoutesJson(upstream.Url, "X-Dept=dept"));
        await using var edge = await EdgeTestHost.StartAsync(EdgeTestHost.DefaultConfig(upstream.Url, jwks.JwksUrl),
            b => b.Configuration.AddJsonFile(file, optional: false, reloadOnChange: true));
        var exp = edge.Time.GetUtcNow().ToUnixTimeSeconds() + 600;
        var token = Jwt.Sign(key, Jwt.Header(key),
            $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"u1\",\"exp\":{exp},\"dept\":\"sales\",\"{claim}\":\"eu-west\"}}");

        using (var first = await edge.GetAsync("/claims/a", token))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        Assert.Equal("sales", upstream.Last.Header("X-Dept"));
        Assert.Null(upstream.Last.Header("X-Region"));

        await File.WriteAllTextAsync(file, RoutesJson(upstream.Url, $"X-Dept=dept,X-Region={claim}"));
        for (var i = 0; i < 100; i++)
        {
            using var response = await edge.GetAsync("/claims/a", token, r => r.Headers.TryAddWithoutValidation("X-Region", "spoofed"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            if (upstream.Last.Header("X-Region") is "eu-west")
            {
                break;
            }
            Assert.Equal("spoofed", upstream.Last.Header("X-Region")); // before the reload applies, the route does not map it
            await Task.Delay(100);
        }
        Assert.Equal("eu-west", upstream.Last.Header("X-Region"));
        Assert.Equal("sales", upstream.Last.Header("X-Dept"));
        dir.Delete(true);
    }

    private static string RoutesJson(string upstream, string claimHeaders) => $$"""
        { "ReverseProxy": {
            "Routes": { "claims": { "ClusterId": "claims", "Match": { "Path": "/claims/{**rest}" }, "Metadata": { "Authio.ClaimHeaders": "{{claimHeaders}}" } } },
            "Clusters": { "claims": { "Destinations": { "d": { "Address": "{{upstream}}" } } } } } }
        """;
}
