using System.Text;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Pipeline;
using Authio.EdgeProxy.Policy;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Configuration;

namespace Authio.Edge.Benchmarks.Policy;

/// <summary>
/// <c>Authio.ClaimHeaders</c> on a token-cache hit: the values were computed when the credential was validated, so a
/// request only checks them and writes the identity headers with them (0 B). <c>Compute</c> is the once-per-credential cost.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class ClaimHeaderBenchmarks
{
    private RoutePolicy _policy = null!;
    private EdgeIdentity _identity = null!;
    private DefaultHttpContext _context = null!;
    private byte[] _payload = null!;

    [GlobalSetup]
    public void Setup()
    {
        var route = new RouteConfig
        {
            RouteId = "teams", ClusterId = "up", Match = new RouteMatch { Path = "/teams/{**rest}" },
            Metadata = new Dictionary<string, string> { ["Authio.ClaimHeaders"] = "X-Team=teams,X-Role=role,X-Region=address.region" },
        };
        if (!RoutePolicy.TryCompile(route, out _policy, out var error))
        {
            throw new InvalidOperationException(error);
        }
        _payload = Encoding.UTF8.GetBytes("""
            {"iss":"https://auth.example.com","sub":"user_1","org":"org_1","exp":4102444800,"scope":"read:*","role":"mod",
             "teams":["team_a","team_b"],"address":{"region":"eu-west"}}
            """);
        _identity = new EdgeIdentity
        {
            Subject = "user_1", Scopes = ["read:*"], ScopesHeader = "read:*", AuthType = "jwt",
            Payload = _payload, ClaimValues = ClaimPaths.Compute(_payload, ClaimPaths.Current),
        };
        _context = new DefaultHttpContext();
        Hit();
        if (_context.Request.Headers["X-Team"] != "team_a team_b" || _context.Request.Headers["X-Region"] != "eu-west")
        {
            throw new InvalidOperationException("claim headers not set");
        }
    }

    [Benchmark(Description = "cache hit: check + identity headers (3 X-Authio + 3 claim)")]
    public bool Hit()
    {
        var ok = RouteAuthorization.Check(_context, _policy, _identity) is null;
        IdentityForwarding.Write(new IdentityForwarding.HeaderDictionarySink(_context.Request.Headers), _policy, _identity);
        return ok;
    }

    [Benchmark(Description = "once per credential: Compute")]
    public int Compute() => ClaimPaths.Compute(_payload, ClaimPaths.Current).Length;
}
