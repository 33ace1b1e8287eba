using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.EdgeProxy.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Authio.EdgeProxy.Tests.Authentication;

public sealed class NegativeTokenCacheTests
{
    private static readonly IPAddress Client = IPAddress.Parse("198.51.100.20");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly TestKey _key = TestKey.Es256("neg-1");

    private sealed class RevokeSubject(string subject) : IRevocationCheck
    {
        public RevocationVerdict Check(EdgeIdentity identity) => identity.Subject == subject ? RevocationVerdict.Revoked : RevocationVerdict.Clean;

        public ValueTask<RevocationVerdict> ConfirmAsync(EdgeIdentity identity, CancellationToken cancellationToken) => new(Check(identity));
    }

    private (JwtValidator Validator, EdgeAuthenticator Authenticator, FailureBudget Budget) Build(IRevocationCheck revocation)
    {
        var issuer = new TrustedIssuer(new IssuerOptions { Issuer = Jwt.Issuer, Audiences = [Jwt.Audience], JwksUri = "x", Algorithms = [_key.Alg] });
        var registry = new IssuerRegistry([issuer]);
        Assert.True(JwksParser.TryParse(Encoding.UTF8.GetBytes(TestKey.Jwks(_key)), issuer, out var keys, out _));
        registry.Publish(issuer, new KeySet(keys, _time.GetUtcNow()));
        var validator = new JwtValidator(registry, _time, new EdgeTokenOptions());
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var budget = new FailureBudget(new FailureBudgetOptions { PerSecond = 1, Burst = 3 }, _time);
        var authenticator = new EdgeAuthenticator(validator, new TokenCache(1024), budget, revocation,
            new EdgeMetrics(meters, registry, _time), _time, new NegativeTokenCache(1024));
        return (validator, authenticator, budget);
    }

    [Fact]
    public void A_revoked_token_is_refused_from_the_negative_cache_until_it_expires_and_never_charged()
    {
        var (validator, authenticator, budget) = Build(new RevokeSubject("revoked-user"));
        var token = Encoding.ASCII.GetBytes(Jwt.Mint(_key, _time.GetUtcNow(), sub: "revoked-user"));
        Assert.False(authenticator.TryAuthenticate(token, Client, out _, out var first));
        Assert.Same(EdgeError.Revoked, first);
        var checks = validator.SignatureChecks;
        for (var i = 0; i < 20; i++)
        {
            Assert.False(authenticator.TryAuthenticate(token, Client, out _, out var again));
            Assert.Same(EdgeError.Revoked, again);
        }
        Assert.Equal(checks, validator.SignatureChecks);
        Assert.False(budget.IsExhausted(Client));

        // Past exp + skew the entry lapses: one more check, which now answers expired (remembered for good).
        _time.Advance(TimeSpan.FromHours(1));
        Assert.False(authenticator.TryAuthenticate(token, Client, out _, out var later));
        Assert.Same(EdgeError.Expired, later);
        Assert.Equal(checks + 1, validator.SignatureChecks);
        Assert.False(authenticator.TryAuthenticate(token, Client, out _, out _));
        Assert.Equal(checks + 1, validator.SignatureChecks);
    }

    [Fact]
    public void Forged_tokens_are_never_remembered_and_are_charged()
    {
        var (validator, authenticator, budget) = Build(new NoRevocations());
        var valid = Jwt.Mint(_key, _time.GetUtcNow());
        var forged = Encoding.ASCII.GetBytes(valid[..(valid.LastIndexOf('.') + 1)] + Jwt.B64(new byte[64]));
        Assert.False(authenticator.TryAuthenticate(forged, Client, out _, out var error));
        Assert.Same(EdgeError.BadSignature, error);
        var checks = validator.SignatureChecks;
        Assert.False(authenticator.TryAuthenticate(forged, Client, out _, out _));
        Assert.Equal(checks + 1, validator.SignatureChecks);
        Assert.False(authenticator.TryAuthenticate(forged, Client, out _, out _));
        Assert.True(budget.IsExhausted(Client));
    }

    [Fact]
    public void A_hit_needs_the_exact_bytes_and_a_lapsed_entry_is_a_miss()
    {
        var cache = new NegativeTokenCache(64);
        var token = "header.payload.signature"u8.ToArray();
        cache.Add(token, EdgeError.WrongAudience, untilUnix: 1000, nowUnix: 900);
        Assert.True(cache.TryGet(token, 999, out var error));
        Assert.Same(EdgeError.WrongAudience, error);
        Assert.False(cache.TryGet("header.payload.signaturX"u8, 999, out _));
        Assert.False(cache.TryGet("header.payload.signatur"u8, 999, out _));
        Assert.False(cache.TryGet(token, 1000, out _));
    }

    [Fact]
    public void A_replay_allocates_nothing()
    {
        var (_, authenticator, _) = Build(new NoRevocations());
        var token = Encoding.ASCII.GetBytes(Jwt.Sign(_key, Jwt.Header(_key), Jwt.Claims(_time.GetUtcNow().AddHours(-2), exp: _time.GetUtcNow().AddHours(-1).ToUnixTimeSeconds())));
        for (var i = 0; i < 200; i++)
        {
            authenticator.TryAuthenticate(token, Client, out _, out _);
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            authenticator.TryAuthenticate(token, Client, out _, out _);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
