using System.Net;
using Authio.EdgeProxy.Hosting;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Authio.EdgeProxy.Tests.Hosting;

public sealed class ConfigurationTests
{
    private static Dictionary<string, string?> Base() => EdgeTestHost.DefaultConfig("http://127.0.0.1:1/", "http://127.0.0.1:1/jwks.json");

    [Theory]
    [InlineData("Edge:Issuers:0:Audiences:0", "", "Edge:Issuers:0:Audiences")]
    [InlineData("Edge:Issuers:0:Issuer", "", "Edge:Issuers:0:Issuer")]
    [InlineData("Edge:Issuers:0:JwksUri", "", "Edge:Issuers:0:JwksUri")]
    [InlineData("Edge:Issuers:0:Algorithms:0", "HS256", "Edge:Issuers:0:Algorithms")]
    [InlineData("Edge:Issuers:0:Algorithms:0", "none", "Edge:Issuers:0:Algorithms")]
    [InlineData("Edge:Issuers:0:SharedSecret", "short", "Edge:Issuers:0:SharedSecret")]
    [InlineData("Edge:Tokens:MaxTokenBytes", "10", "Edge:Tokens:MaxTokenBytes")]
    [InlineData("Edge:Tokens:ClockSkew", "01:00:00", "Edge:Tokens:ClockSkew")]
    [InlineData("Edge:ApiKeys:CacheSigningKey", "c2hvcnQ=", "Edge:ApiKeys:CacheSigningKey")]
    [InlineData("Edge:ApiKeys:CacheSigningKey", "not base64!", "Edge:ApiKeys:CacheSigningKey")]
    [InlineData("Edge:ForwardAuth:Urls", "ftp://127.0.0.1:9", "Edge:ForwardAuth:Urls")]
    [InlineData("Edge:ForwardAuth:SharedSecret", "a-secret-without-its-header", "Edge:ForwardAuth:SharedSecretHeader")]
    [InlineData("Edge:ForwardAuth:SharedSecretHeader", "X-Authio-Check", "Edge:ForwardAuth:SharedSecret")]
    [InlineData("Edge:ApiKeys:PushedRefreshInterval", "00:00:00", "Edge:ApiKeys:PushedRefreshInterval")]
    [InlineData("Edge:ApiKeys:PushedRefreshInterval", "2.00:00:00", "Edge:ApiKeys:PushedRefreshInterval")]
    [InlineData("Edge:ApiKeys:PushedRefreshInterval", "abc", "Edge:ApiKeys:PushedRefreshInterval")]
    [InlineData("Edge:ApiKeys:CacheDuration", "99999999999999999999", "Edge:ApiKeys:CacheDuration")]
    [InlineData("Edge:Tokens:CacheCapacity", "many", "Edge:Tokens:CacheCapacity")]
    public void Bad_edge_configuration_stops_startup_naming_the_key(string key, string value, string named)
    {
        var config = Base();
        config[key] = value;
        var error = Assert.Throws<ConfigurationException>(() => EdgeApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(config);
            b.Logging.ClearProviders();
        }));
        Assert.Contains(named, error.Message);
    }

    [Theory]
    [InlineData("Authio.Anonymous", "yes", "Authio.Anonymous")]
    [InlineData("Authio.OrgRouteValue", "tenant", "Authio.OrgRouteValue")]
    [InlineData("Authio.Scope", "read", "unknown metadata key")]
    [InlineData("Authio.MaxAuthAge", "0", "Authio.MaxAuthAge")]
    [InlineData("Authio.MaxAuthAge", "-5", "Authio.MaxAuthAge")]
    [InlineData("Authio.MaxAuthAge", "5m", "Authio.MaxAuthAge")]
    [InlineData("Authio.Acr", "urn:authio:acr:gold", "Authio.Acr")]
    [InlineData("Authio.Acr", "", "Authio.Acr")]
    public async Task Bad_route_metadata_stops_startup_naming_the_route(string key, string value, string expected)
    {
        var config = Base();
        config["ReverseProxy:Routes:broken:ClusterId"] = "up";
        config["ReverseProxy:Routes:broken:Match:Path"] = "/broken/{**rest}";
        config[$"ReverseProxy:Routes:broken:Metadata:{key}"] = value;
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var edge = await EdgeTestHost.StartAsync(config);
        });
        var messages = string.Join(" | ", Flatten(error));
        Assert.Contains("broken", messages);
        Assert.Contains(expected, messages);
    }

    [Theory]
    [InlineData("AuthorizationPolicy", "default")]
    [InlineData("AuthorizationPolicy", "anonymous")]
    [InlineData("CorsPolicy", "everyone")]
    public async Task A_route_with_a_yarp_authorization_or_cors_policy_stops_startup_naming_the_route(string field, string value)
    {
        var config = Base();
        config["ReverseProxy:Routes:broken:ClusterId"] = "up";
        config["ReverseProxy:Routes:broken:Match:Path"] = "/broken/{**rest}";
        config[$"ReverseProxy:Routes:broken:{field}"] = value;
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var edge = await EdgeTestHost.StartAsync(config);
        });
        var messages = string.Join(" | ", Flatten(error));
        Assert.Contains("broken", messages);
        Assert.Contains(field, messages);
    }

    [Fact]
    public async Task No_aspnet_authorization_middleware_runs_in_front_of_the_proxy()
    {
        await using var upstream = new RecordingUpstream();
        await upstream.StartAsync();
        await using var jwks = new JwksServer();
        await jwks.StartAsync();
        var config = EdgeTestHost.DefaultConfig(upstream.Url, jwks.JwksUrl);
        await using var edge = await EdgeTestHost.StartAsync(config);
        var services = edge.Services.GetRequiredService<IServiceProviderIsService>();
        Assert.False(services.IsService(typeof(Microsoft.AspNetCore.Authorization.IAuthorizationHandlerProvider)));
        using var anonymous = await edge.GetAsync("/public/x");
        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
    }

    [Fact]
    public async Task Route_changes_reload_live_and_a_bad_reload_keeps_the_last_good_routes()
    {
        await using var upstream = new RecordingUpstream();
        await upstream.StartAsync();
        await using var jwks = new JwksServer();
        await jwks.StartAsync();
        var key = TestKey.Es256("key-1");
        jwks.Publish(key);
        var dir = Directory.CreateTempSubdirectory("authio-reload");
        var file = Path.Combine(dir.FullName, "routes.json");
        await File.WriteAllTextAsync(file, RoutesJson(upstream.Url, "/v1/{**rest}", "true"));
        var config = EdgeTestHost.DefaultConfig(upstream.Url, jwks.JwksUrl);
        await using var edge = await EdgeTestHost.StartAsync(config, b => b.Configuration.AddJsonFile(file, optional: false, reloadOnChange: true));

        using (var before = await edge.GetAsync("/v1/a"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }
        await File.WriteAllTextAsync(file, RoutesJson(upstream.Url, "/v2/{**rest}", "true"));
        await Eventually(async () => (await edge.GetAsync("/v2/a")).StatusCode == HttpStatusCode.OK);

        await File.WriteAllTextAsync(file, RoutesJson(upstream.Url, "/v3/{**rest}", "maybe"));
        await Task.Delay(1500);
        using (var stillGood = await edge.GetAsync("/v2/a"))
        {
            Assert.Equal(HttpStatusCode.OK, stillGood.StatusCode);
        }
        using (var notApplied = await edge.GetAsync("/v3/a"))
        {
            Assert.Equal(HttpStatusCode.NotFound, notApplied.StatusCode);
        }
        dir.Delete(true);
    }

    private static string RoutesJson(string upstream, string path, string anonymous) => $$"""
        { "ReverseProxy": {
            "Routes": { "live": { "ClusterId": "live", "Match": { "Path": "{{path}}" }, "Metadata": { "Authio.Anonymous": "{{anonymous}}" } } },
            "Clusters": { "live": { "Destinations": { "d": { "Address": "{{upstream}}" } } } } } }
        """;

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(100);
        }
        Assert.Fail("condition never held");
    }

    private static IEnumerable<string> Flatten(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e.Message;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                {
                    yield return inner;
                }
            }
        }
    }
}

public sealed class LoggingDefaultsTests
{
    [Fact]
    public async Task Per_request_logging_is_off_by_default_and_any_source_can_turn_it_on()
    {
        var config = EdgeTestHost.DefaultConfig("http://127.0.0.1:1/", "http://127.0.0.1:1/jwks.json");
        await using (var quiet = EdgeApp.Build([], b => b.Configuration.AddInMemoryCollection(config)))
        {
            var configuration = quiet.Proxy.Configuration;
            Assert.Equal("None", configuration["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"]);
            Assert.Equal("Warning", configuration["Logging:LogLevel:Yarp"]);
        }
        await using var loud = EdgeApp.Build(["--Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=Information"], b => b.Configuration.AddInMemoryCollection(config));
        Assert.Equal("Information", loud.Proxy.Configuration["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"]);
    }
}
