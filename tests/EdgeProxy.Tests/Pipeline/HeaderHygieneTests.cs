using System.Net;
using Authio.EdgeProxy.Hosting;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Authio.EdgeProxy.Tests.Pipeline;

public sealed class SmallHeaderLimitWorld : EdgeWorld
{
    public const int Limit = 4096;

    protected override void Customize(Dictionary<string, string?> config) =>
        config["Edge:Limits:MaxRequestHeaderBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Method/URL override headers never reach the upstream; an oversized header section is a problem+json 431.</summary>
public sealed class HeaderHygieneTests(SmallHeaderLimitWorld world) : IClassFixture<SmallHeaderLimitWorld>
{
    public static TheoryData<string> OverrideSpellings =>
    [
        "X-HTTP-Method-Override", "x-http-method-override", "X-HTTP-METHOD-OVERRIDE", "X_HTTP_Method_Override",
        "X-Method-Override", "x-method-override", "X_METHOD_OVERRIDE",
        "X-Original-URL", "x-original-url", "X-ORIGINAL-URL", "x_original_url",
        "X-Rewrite-URL", "x-rewrite-url", "X-REWRITE-URL", "X_Rewrite_Url",
    ];

    [Theory]
    [MemberData(nameof(OverrideSpellings))]
    public async Task Override_headers_never_reach_the_upstream(string name)
    {
        void Spoof(HttpRequestMessage request)
        {
            request.Headers.TryAddWithoutValidation(name, name.Contains("url", StringComparison.OrdinalIgnoreCase) ? "/admin/users" : "DELETE");
            request.Headers.TryAddWithoutValidation("X-Original-Host", "kept");
        }
        using (var anonymous = await world.Edge.GetAsync("/public/x", configure: Spoof))
        {
            Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
            AssertStripped(world.Upstream.Last, name);
        }
        using (var authenticated = await world.Edge.GetAsync("/api/x", world.Mint(), Spoof))
        {
            Assert.Equal(HttpStatusCode.OK, authenticated.StatusCode);
            AssertStripped(world.Upstream.Last, name);
        }
    }

    private static void AssertStripped(ReceivedRequest received, string name)
    {
        Assert.DoesNotContain(received.Headers.Keys, k => k.Replace('_', '-').Equals(name.Replace('_', '-'), StringComparison.OrdinalIgnoreCase));
        Assert.Equal("kept", received.Header("X-Original-Host")); // only the listed names go
        Assert.Equal("/" + received.Path.TrimStart('/'), received.Path);
    }

    [Fact]
    public async Task A_header_section_over_the_edge_limit_is_431_problem_json_and_never_forwarded()
    {
        var before = world.Upstream.Received.Count;
        var big = new string('a', SmallHeaderLimitWorld.Limit);
        using (var anonymous = await world.Edge.GetAsync("/public/x", configure: r => r.Headers.TryAddWithoutValidation("X-Big", big)))
        {
            await ProblemAssert.Is(anonymous, 431, "request_header_too_large");
        }
        using (var unmatched = await world.Edge.GetAsync("/no-such-route", configure: r => r.Headers.TryAddWithoutValidation("X-Big", big)))
        {
            await ProblemAssert.Is(unmatched, 431, "request_header_too_large"); // checked before routing
        }
        Assert.Equal(before, world.Upstream.Received.Count);
        // Many small headers add up the same way.
        using (var many = await world.Edge.GetAsync("/api/x", world.Mint(), r =>
               {
                   for (var i = 0; i < 40; i++)
                   {
                       r.Headers.TryAddWithoutValidation($"X-Part-{i}", new string('b', 100));
                   }
               }))
        {
            await ProblemAssert.Is(many, 431, "request_header_too_large");
        }
        using var under = await world.Edge.GetAsync("/api/x", world.Mint(), r => r.Headers.TryAddWithoutValidation("X-Big", new string('a', 2000)));
        Assert.Equal(HttpStatusCode.OK, under.StatusCode);
    }

    [Theory]
    [InlineData("Edge:Limits:MaxRequestHeaderBytes", "100")]
    [InlineData("Edge:Limits:MaxRequestHeaderBytes", "2000000")]
    public void A_bad_limit_stops_startup_naming_the_key(string key, string value)
    {
        var config = EdgeTestHost.DefaultConfig("http://127.0.0.1:1/", "http://127.0.0.1:1/jwks.json");
        config[key] = value;
        var error = Assert.Throws<ConfigurationException>(() => EdgeApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(config);
            b.Logging.ClearProviders();
        }));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public async Task A_non_boolean_AllowEncodedSlashes_fails_the_configuration_load_naming_the_route()
    {
        var config = EdgeTestHost.DefaultConfig("http://127.0.0.1:1/", "http://127.0.0.1:1/jwks.json");
        config["ReverseProxy:Routes:broken:ClusterId"] = "up";
        config["ReverseProxy:Routes:broken:Match:Path"] = "/broken/{**rest}";
        config["ReverseProxy:Routes:broken:Metadata:Authio.AllowEncodedSlashes"] = "sometimes";
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var edge = await EdgeTestHost.StartAsync(config);
        });
        var messages = new List<string>();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
        }
        Assert.Contains(messages, m => m.Contains("broken", StringComparison.Ordinal) && m.Contains("Authio.AllowEncodedSlashes", StringComparison.Ordinal));
    }
}
