using System.Text;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Pipeline;
using Authio.EdgeProxy.Policy;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Configuration;

namespace Authio.EdgeProxy.Tests.Policy;

/// <summary>On a cached credential the route checks (wildcard scopes, project role, claim headers) allocate nothing.</summary>
public sealed class RouteAuthorizationAllocationTests
{
    [Fact]
    public void Scope_project_and_claim_header_checks_allocate_nothing_per_request()
    {
        var route = new RouteConfig
        {
            RouteId = "alloc", ClusterId = "up", Match = new RouteMatch { Path = "/p/{project}/{**rest}" },
            Metadata = new Dictionary<string, string>
            {
                ["Authio.Scopes"] = "write:applications", ["Authio.AnyScopes"] = "admin write:*", ["Authio.ProjectRouteValue"] = "project",
                ["Authio.ClaimHeaders"] = "X-Team=teams,X-Region=address.region,X-Missing=nope",
            },
        };
        Assert.True(RoutePolicy.TryCompile(route, out var policy, out var error), error);
        var payload = Encoding.UTF8.GetBytes("""{"sub":"u","role":"explore","teams":["a","b"],"address":{"region":"eu"},"projects":{"prj_1":"create"}}""");
        var identity = new EdgeIdentity
        {
            Subject = "u", Scopes = ["read:*"], ScopesHeader = "read:*", AuthType = "jwt", Role = "explore",
            ProjectRoles = new Dictionary<string, string>(StringComparer.Ordinal) { ["prj_1"] = "create" },
            Payload = payload, ClaimValues = ClaimPaths.Compute(payload, ClaimPaths.Current),
        };
        var context = new DefaultHttpContext();
        context.Request.RouteValues["project"] = "prj_1";
        context.Request.Headers["X-Missing"] = "spoofed";

        Assert.Null(RouteAuthorization.Check(context, policy, identity)); // create on the project: write:* covers both
        IdentityForwarding.Write(new IdentityForwarding.HeaderDictionarySink(context.Request.Headers), policy, identity);
        Assert.Equal("a b", context.Request.Headers["X-Team"]);
        Assert.Equal("eu", context.Request.Headers["X-Region"]);
        Assert.False(context.Request.Headers.ContainsKey("X-Missing"));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            RouteAuthorization.Check(context, policy, identity);
            IdentityForwarding.Write(new IdentityForwarding.HeaderDictionarySink(context.Request.Headers), policy, identity);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
