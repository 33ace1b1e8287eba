using Authio.EdgeProxy.Policy;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Scopes;
using Yarp.ReverseProxy.Configuration;

namespace Authio.EdgeProxy.Tests.Policy;

/// <summary>The one scope grammar (src/Shared/Scopes) and the route settings built on it.</summary>
public sealed class ScopeGrammarTests
{
    [Theory]
    [InlineData("read:*", "read:applications", true)]
    [InlineData("read:*", "read:a:b", true)]
    [InlineData("read:*", "read:*", true)]
    [InlineData("a:b:*", "a:b:c", true)]
    [InlineData("a:*", "a:b:*", true)]
    [InlineData("read:*", "read", false)]
    [InlineData("read:*", "read:", false)]
    [InlineData("read:*", "write:applications", false)]
    [InlineData("read:*", "readx:applications", false)]
    [InlineData("write:*", "read:*", false)]
    [InlineData("a:b:*", "a:c", false)]
    [InlineData("read:applications", "read:*", false)] // a required wildcard is matched literally
    [InlineData("read:applications", "read:applications", true)]
    [InlineData("admin", "admin", true)]
    [InlineData("*", "admin", false)] // a bare '*' is an ordinary literal, never "everything"
    [InlineData("*", "*", true)]
    [InlineData("re*d", "read", false)]
    [InlineData("*:x", "a:x", false)]
    [InlineData(":*", "::", false)]
    [InlineData("a::*", "a::b", false)]
    public void Granted_covers_required(string granted, string required, bool covers)
    {
        Assert.Equal(covers, ScopeGrammar.Covers(granted, required));
        Assert.Equal(covers, new GrantedScopes([granted]).Covers(required));
    }

    [Theory]
    [InlineData("read:*", true)]
    [InlineData("a:b:*", true)]
    [InlineData("read:applications", true)]
    [InlineData("admin", true)]
    [InlineData("*", false)]
    [InlineData("re*d", false)]
    [InlineData("*:x", false)]
    [InlineData("read:*:x", false)]
    [InlineData("read:**", false)]
    [InlineData("read::x", false)]
    [InlineData(":read", false)]
    [InlineData("read\u00e9", false)]
    [InlineData("a,b", false)]
    public void Configured_scopes_are_validated(string scope, bool valid) =>
        Assert.Equal(valid, ScopeGrammar.TryValidate(scope, out _));

    [Fact]
    public void All_of_and_any_of()
    {
        var mod = new GrantedScopes(["read:*", "write:*", "admin"]);
        var explore = new GrantedScopes(["read:*"]);
        Assert.True(mod.Satisfies(["read:applications"], ["admin", "billing:x"]));
        Assert.False(explore.Satisfies(["read:applications"], ["admin", "write:x"]));
        Assert.True(explore.Satisfies(["read:applications"], []));
        Assert.True(explore.Satisfies([], ["write:x", "read:x"]));
        Assert.False(explore.Satisfies([], ["write:x"]));
    }

    [Fact]
    public void Role_table_is_shared_and_the_higher_role_wins()
    {
        Assert.Equal(["read:*", "write:*", "admin"], RoleScopes.ScopesOf(RoleScopes.Mod));
        Assert.Equal(RoleScopes.Create, RoleScopes.Higher(RoleScopes.Explore, RoleScopes.Create));
        Assert.Equal(RoleScopes.Mod, RoleScopes.Higher(RoleScopes.Mod, RoleScopes.Explore));
        Assert.Equal(RoleScopes.Create, RoleScopes.Higher(null, RoleScopes.Create));
        Assert.Null(RoleScopes.Higher("owner", null));
        Assert.True(RoleScopes.GrantedOf(RoleScopes.Create).Covers("write:apps"));
        Assert.False(RoleScopes.GrantedOf("owner").Covers("read:x"));
    }

    private static RouteConfig Route(params (string Key, string Value)[] metadata) => new()
    {
        RouteId = "orders",
        ClusterId = "up",
        Match = new RouteMatch { Path = "/orgs/{org}/projects/{project}/{**rest}" },
        Metadata = metadata.ToDictionary(m => m.Key, m => m.Value),
    };

    [Theory]
    [InlineData("Authio.Scopes", "read:* re*d")]
    [InlineData("Authio.Scopes", "*")]
    [InlineData("Authio.AnyScopes", "*:x")]
    [InlineData("Authio.AnyScopes", " ")]
    [InlineData("Authio.Issuers", "nobody")]
    [InlineData("Authio.Issuers", " , ")]
    [InlineData("Authio.ProjectRouteValue", "proj")]
    [InlineData("Authio.ClaimHeaders", "Authorization=sub")]
    [InlineData("Authio.ClaimHeaders", "host=sub")]
    [InlineData("Authio.ClaimHeaders", "COOKIE=sub")]
    [InlineData("Authio.ClaimHeaders", "x-authio-team=teams")]
    [InlineData("Authio.ClaimHeaders", "X_Authio_Team=teams")]
    [InlineData("Authio.ClaimHeaders", "X Team=teams")]
    [InlineData("Authio.ClaimHeaders", "X-Team:=teams")]
    [InlineData("Authio.ClaimHeaders", "X-Team")]
    [InlineData("Authio.ClaimHeaders", "X-Team=a..b")]
    [InlineData("Authio.ClaimHeaders", "X-Team=teams,x-team=role")]
    public void Bad_settings_fail_naming_the_route_and_key(string key, string value)
    {
        Assert.False(RoutePolicy.TryCompile(Route((key, value)), new HashSet<string> { "control-plane", "partner" }, out _, out var error));
        Assert.Contains("Route 'orders'", error);
        Assert.Contains(key, error);
    }

    [Fact]
    public void Good_settings_compile()
    {
        Assert.True(RoutePolicy.TryCompile(Route(
            ("Authio.Scopes", "read:orders write:*"), ("Authio.AnyScopes", "admin billing:*"), ("Authio.Issuers", "partner, control-plane"),
            ("Authio.ClaimHeaders", "X-Team=teams, X-Region=address.region"), ("Authio.ProjectRouteValue", "project"), ("Authio.OrgRouteValue", "org")),
            new HashSet<string> { "control-plane", "partner" }, out var policy, out var error), error);
        Assert.Equal(["read:orders", "write:*"], policy.RequiredScopes);
        Assert.Equal(["admin", "billing:*"], policy.AnyScopes);
        Assert.Equal(["partner", "control-plane"], policy.Issuers!);
        Assert.True(policy.AcceptsApiKeys);
        Assert.Equal(["X-Team", "X-Region"], policy.ClaimHeaders.Select(h => h.Header));
        Assert.Equal("project", policy.ProjectRouteValue);
    }

    [Fact]
    public async Task An_unknown_issuer_name_stops_startup_naming_the_route()
    {
        var config = EdgeTestHost.DefaultConfig("http://127.0.0.1:1/", "http://127.0.0.1:1/jwks.json");
        config["Edge:Issuers:0:Name"] = "main";
        config["ReverseProxy:Routes:partner:ClusterId"] = "up";
        config["ReverseProxy:Routes:partner:Match:Path"] = "/partner/{**rest}";
        config["ReverseProxy:Routes:partner:Metadata:Authio.Issuers"] = "main,partner";
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var edge = await EdgeTestHost.StartAsync(config);
        });
        var all = string.Join(" | ", Flatten(error));
        Assert.Contains("'partner'", all);
        Assert.Contains("Authio.Issuers", all);
    }

    private static IEnumerable<string> Flatten(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            yield return e.Message;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    yield return inner.Message;
                }
            }
        }
    }
}
