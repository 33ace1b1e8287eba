using Authio.EdgeProxy.Hosting;
using Authio.EdgeProxy.Policy;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace Authio.EdgeProxy.Tests.RateLimiting;

public sealed class RateLimitGrammarTests
{
    [Theory]
    [InlineData("100/1s burst 200 per org global", 100, 1000, 200, "Org", true)]
    [InlineData("100/1s", 100, 1000, 100, "Credential", false)]
    [InlineData("  5/500ms   per ip ", 5, 500, 5, "Ip", false)]
    [InlineData("60/1m per subject", 60, 60_000, 60, "Subject", false)]
    [InlineData("1000/1h burst 10 global", 1000, 3_600_000, 10, "Credential", true)]
    [InlineData("7/2s PER CREDENTIAL", 7, 2000, 7, "Credential", false)]
    public void Valid_limits_parse(string text, long count, long periodMs, long burst, string scope, bool global)
    {
        Assert.True(RateLimitPolicy.TryParse("r", text, out var limit, out var error), error);
        Assert.Equal(count, limit.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(periodMs), limit.Period);
        Assert.Equal(burst, limit.Burst);
        Assert.Equal(scope, limit.Scope.ToString());
        Assert.Equal(global, limit.Global);
    }

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("0/1s")]
    [InlineData("-5/1s")]
    [InlineData("10/0s")]
    [InlineData("10/1x")]
    [InlineData("10/s")]
    [InlineData("10/1.5s")]
    [InlineData("10/25h")]
    [InlineData("10/1s burst")]
    [InlineData("10/1s burst 0")]
    [InlineData("10/1s per team")]
    [InlineData("10/1s per")]
    [InlineData("10/1s global burst 5")]
    [InlineData("10/1s per ip burst 5")]
    [InlineData("10/1s global global")]
    [InlineData("10/1s please")]
    public void Bad_limits_are_refused(string text)
    {
        Assert.False(RateLimitPolicy.TryParse("r", text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Headers_are_structured_fields()
    {
        Assert.True(RateLimitPolicy.TryParse("orders", "100/500ms burst 150", out var limit, out _));
        Assert.Equal("\"orders\";q=100;w=1", limit.PolicyHeader);
        Assert.True(RateLimitPolicy.TryParse("we\"ird", "10/1m", out var odd, out _));
        Assert.Equal("\"we\\\"ird\";q=10;w=60", odd.PolicyHeader);
    }

    [Fact]
    public void The_route_compiler_names_the_route_and_the_key()
    {
        var route = new RouteConfig
        {
            RouteId = "orders",
            ClusterId = "up",
            Match = new RouteMatch { Path = "/orders/{**rest}" },
            Metadata = new Dictionary<string, string> { [RoutePolicy.RateLimitKey] = "100/1 s" },
        };
        Assert.False(RoutePolicy.TryCompile(route, out _, out var error));
        Assert.Contains("Route 'orders'", error);
        Assert.Contains("Authio.RateLimit", error);

        var good = route with { Metadata = new Dictionary<string, string> { [RoutePolicy.RateLimitKey] = "100/1s per org" } };
        Assert.True(RoutePolicy.TryCompile(good, out var policy, out error), error);
        Assert.Equal("orders", policy.RateLimit!.Name);
        Assert.Equal(RateLimitScope.Org, policy.RateLimit.Scope);
    }

    [Fact]
    public async Task A_bad_route_limit_stops_startup_naming_the_route()
    {
        var config = EdgeTestHost.DefaultConfig("http://127.0.0.1:1/", "http://127.0.0.1:1/jwks.json");
        config["ReverseProxy:Routes:throttled:ClusterId"] = "up";
        config["ReverseProxy:Routes:throttled:Match:Path"] = "/throttled/{**rest}";
        config["ReverseProxy:Routes:throttled:Metadata:Authio.RateLimit"] = "100 per second";
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var edge = await EdgeTestHost.StartAsync(config);
        });
        var messages = new List<string>();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            if (e is AggregateException aggregate)
            {
                messages.AddRange(aggregate.InnerExceptions.Select(i => i.Message));
            }
        }
        var all = string.Join(" | ", messages);
        Assert.Contains("throttled", all);
        Assert.Contains("Authio.RateLimit", all);
    }

    [Theory]
    [InlineData("Edge:RateLimits:Default", "fast", "Edge:RateLimits:Default")]
    [InlineData("Edge:RateLimits:ExpectedEdges", "0", "Edge:RateLimits:ExpectedEdges")]
    [InlineData("Edge:RateLimits:Capacity", "10", "Edge:RateLimits:Capacity")]
    public void Bad_rate_limit_settings_stop_startup_naming_the_key(string key, string value, string named)
    {
        var config = EdgeTestHost.DefaultConfig("http://127.0.0.1:1/", "http://127.0.0.1:1/jwks.json");
        config[key] = value;
        var error = Assert.Throws<ConfigurationException>(() => EdgeApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(config);
            b.Logging.ClearProviders();
        }));
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void Org_limits_refuse_bad_text_naming_the_org()
    {
        var orgs = new InMemoryOrgRateLimits();
        var error = Assert.Throws<ArgumentException>(() => orgs.Set("org_9", "many"));
        Assert.Contains("org_9", error.Message);
        Assert.False(orgs.TryGet("org_9", out _));
        orgs.Set("org_9", "5/1s");
        Assert.True(orgs.TryGet("org_9", out var limit));
        Assert.Equal(5, limit.Count);
        orgs.Set("org_9", null);
        Assert.False(orgs.TryGet("org_9", out _));
    }
}
