using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.EdgeProxy.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.Tokens;

/// <summary>
/// The hot path's allocation budget, asserted exactly (allocation counts are deterministic, unlike timings):
/// cached validation and cold HS256/RS256 validation allocate nothing.
/// </summary>
public sealed class AllocationTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("an-hs256-secret-that-is-long-enough!!");

    private static (JwtValidator Validator, EdgeAuthenticator Authenticator) Build(TestKey? key)
    {
        var options = key is null
            ? new IssuerOptions { Issuer = Jwt.Issuer, Audiences = [Jwt.Audience], SharedSecret = Encoding.UTF8.GetString(Secret), Algorithms = ["HS256"] }
            : new IssuerOptions { Issuer = Jwt.Issuer, Audiences = [Jwt.Audience], JwksUri = "x", Algorithms = [key.Alg] };
        var issuer = new TrustedIssuer(options);
        var registry = new IssuerRegistry([issuer]);
        if (key is not null)
        {
            Assert.True(JwksParser.TryParse(Encoding.UTF8.GetBytes(TestKey.Jwks(key)), issuer, out var keys, out _));
            registry.Publish(issuer, new KeySet(keys, DateTimeOffset.UtcNow));
        }
        var validator = new JwtValidator(registry, TimeProvider.System, new EdgeTokenOptions());
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var authenticator = new EdgeAuthenticator(validator, new TokenCache(1024), new FailureBudget(new FailureBudgetOptions(), TimeProvider.System),
            new NoRevocations(), new EdgeMetrics(meters, registry, TimeProvider.System), TimeProvider.System);
        return (validator, authenticator);
    }

    /// <summary>
    /// Bytes 100 calls allocate once warm, the least of three rounds: a steady-state allocation shows in every round, while
    /// a one-off of the runtime's (a tier-up landing mid-round on a loaded machine) shows in one.
    /// </summary>
    private static long AllocatedBy(Action action)
    {
        for (var i = 0; i < 200; i++)
        {
            action(); // warm up: tiering, lazy statics
        }
        var least = long.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100; i++)
            {
                action();
            }
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }

    private static string Token(TestKey? key) => key is null
        ? Jwt.Hs256(Secret, "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", Jwt.Claims(DateTimeOffset.UtcNow))
        : Jwt.Mint(key, DateTimeOffset.UtcNow);

    [Theory]
    [InlineData("HS256")]
    [InlineData("RS256")]
    [InlineData("PS256")]
    public void Cold_validation_allocates_nothing(string alg)
    {
        var key = alg switch { "RS256" => TestKey.Rs256("r"), "PS256" => TestKey.Ps256("p"), _ => null };
        var (validator, _) = Build(key);
        var token = Encoding.ASCII.GetBytes(Token(key));
        var payload = new byte[JwtValidator.PayloadBufferSize(token.Length)];
        Assert.True(validator.TryValidate(token, payload, out _, out var error), error?.Detail);
        Assert.Equal(0, AllocatedBy(() => validator.TryValidate(token, payload, out _, out _)));
    }

    [Fact]
    public void Org_bound_keys_among_many_validate_and_refuse_without_allocating()
    {
        // The control plane's shape: every key names its org; 1 000 other orgs' keys sit in the same index.
        var key = TestKey.Rs256("k_mine");
        var issuer = new TrustedIssuer(new IssuerOptions { Issuer = Jwt.Issuer, Audiences = [Jwt.Audience], JwksUri = "x", Algorithms = ["RS256", "ES256"] });
        var registry = new IssuerRegistry([issuer]);
        var others = Enumerable.Range(0, 1000).Select(i => TestKey.Es256("k_other" + i)).ToArray();
        var set = System.Text.Json.Nodes.JsonNode.Parse(TestKey.Jwks([key, .. others]))!["keys"]!.AsArray();
        for (var i = 0; i < set.Count; i++)
        {
            set[i]!["org"] = i == 0 ? "org_1" : "org_" + (i + 1);
        }
        var items = System.Text.Json.JsonDocument.Parse(set.ToJsonString()).RootElement.EnumerateArray()
            .GroupBy(JwksParser.OrgOf).SelectMany(g => JwksParser.TryParseOrgKeys([.. g], issuer, g.Key, out var k, out var e) ? k : throw new InvalidOperationException(e));
        registry.Publish(issuer, new KeySet([.. items], DateTimeOffset.UtcNow));
        var validator = new JwtValidator(registry, TimeProvider.System, new EdgeTokenOptions());

        var now = DateTimeOffset.UtcNow;
        var mine = Encoding.ASCII.GetBytes(Jwt.Mint(key, now, org: "org_1"));
        var escaped = Encoding.ASCII.GetBytes(Jwt.Mint(key, now, org: "org\\u005f1"));
        var foreign = Encoding.ASCII.GetBytes(Jwt.Mint(key, now, org: "org_2"));
        var payload = new byte[JwtValidator.PayloadBufferSize(foreign.Length + 16)];
        Assert.True(validator.TryValidate(mine, payload, out _, out var error), error?.Detail);
        Assert.True(validator.TryValidate(escaped, payload, out _, out error), error?.Detail);
        Assert.False(validator.TryValidate(foreign, payload, out _, out error));
        Assert.Same(Authio.EdgeProxy.Errors.EdgeError.KeyOrgMismatch, error);
        Assert.Equal(0, AllocatedBy(() => validator.TryValidate(mine, payload, out _, out _)));
        Assert.Equal(0, AllocatedBy(() => validator.TryValidate(escaped, payload, out _, out _)));
        Assert.Equal(0, AllocatedBy(() => validator.TryValidate(foreign, payload, out _, out _)));
    }

    [Fact]
    public void Cold_es256_validation_allocates_only_inside_the_platform_verify()
    {
        var key = TestKey.Es256("e");
        var (validator, _) = Build(key);
        var token = Encoding.ASCII.GetBytes(Token(key));
        var payload = new byte[JwtValidator.PayloadBufferSize(token.Length)];
        Assert.True(validator.TryValidate(token, payload, out _, out _));
        var ours = AllocatedBy(() => validator.TryValidate(token, payload, out _, out _)) / 100;
        var signingInput = token.AsSpan(0, token.AsSpan().LastIndexOf((byte)'.')).ToArray();
        var signature = Base64UrlStrict.TryDecodeToArray(Encoding.ASCII.GetString(token[(token.AsSpan().LastIndexOf((byte)'.') + 1)..]))!;
        using var ecdsa = key.Ec!;
        var hash = System.Security.Cryptography.SHA256.HashData(signingInput);
        var platform = AllocatedBy(() => ecdsa.VerifyHash(hash, signature, System.Security.Cryptography.DSASignatureFormat.IeeeP1363FixedFieldConcatenation)) / 100;
        Assert.True(ours <= platform, $"validator allocated {ours} B per call, the bare platform verify {platform} B");
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("ES256")]
    public void Cached_validation_allocates_nothing(string alg)
    {
        var key = alg == "ES256" ? TestKey.Es256("e") : null;
        var (_, authenticator) = Build(key);
        var token = Encoding.ASCII.GetBytes(Token(key));
        Assert.True(authenticator.TryAuthenticate(token, IPAddress.Loopback, out _, out _));
        Assert.Equal(0, AllocatedBy(() => authenticator.TryAuthenticate(token, IPAddress.Loopback, out _, out _)));
        var chars = Encoding.ASCII.GetString(token);
        Assert.Equal(0, AllocatedBy(() => authenticator.TryAuthenticate(chars.AsSpan(), IPAddress.Loopback, out _, out _)));
    }

    [Fact]
    public void Step_up_check_on_a_cache_hit_allocates_nothing_whether_it_passes_or_refuses()
    {
        var key = TestKey.Es256("e");
        var (_, authenticator) = Build(key);
        var route = new Yarp.ReverseProxy.Configuration.RouteConfig
        {
            RouteId = "admin", ClusterId = "up", Match = new Yarp.ReverseProxy.Configuration.RouteMatch { Path = "/admin/{**rest}" },
            Metadata = new Dictionary<string, string> { ["Authio.MaxAuthAge"] = "300", ["Authio.Acr"] = "mfa" },
        };
        Assert.True(EdgeProxy.Policy.RoutePolicy.TryCompile(route, out var policy, out var error), error);
        using var clock = new EdgeProxy.RateLimiting.CoarseClock(TimeProvider.System);
        var now = DateTimeOffset.UtcNow;
        string Minted(long authTimeAgo, string acr) =>
            Jwt.Sign(key, Jwt.Header(key), Jwt.Claims(now, extra: $"\"auth_time\":{now.ToUnixTimeSeconds() - authTimeAgo},\"acr\":\"{acr}\""));
        foreach (var (token, passes) in new[]
        {
            (Minted(10, Shared.Tokens.AuthenticationLevels.MultiFactor), true),
            (Minted(600, Shared.Tokens.AuthenticationLevels.MultiFactor), false),
            (Minted(10, Shared.Tokens.AuthenticationLevels.Password), false),
        })
        {
            var bytes = Encoding.ASCII.GetBytes(token);
            Assert.True(authenticator.TryAuthenticate(bytes, IPAddress.Loopback, out var identity, out _));
            Assert.Equal(passes, policy.StepUp!.Check(identity!, clock.UnixSeconds) is null);
            Assert.Equal(0, AllocatedBy(() =>
            {
                authenticator.TryAuthenticate(bytes, IPAddress.Loopback, out var cached, out _);
                policy.StepUp.Check(cached!, clock.UnixSeconds);
            }));
        }
    }
}
