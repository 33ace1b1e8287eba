using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.ApiKeys;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.EdgeProxy.Tokens;
using Authio.Shared.ApiKeys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZiggyCreatures.Caching.Fusion;

namespace Authio.EdgeProxy.Tests.Authentication;

/// <summary>
/// Tokens and API keys answer with the same explicit outcome: a decision, or the one asynchronous step the pipeline
/// must take (key refresh, API-key lookup, revocation confirmation), never an error standing in for a step.
/// </summary>
public sealed class AuthenticationOutcomeTests : IAsyncLifetime
{
    private static readonly IPAddress Client = IPAddress.Parse("198.51.100.30");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly TestKey _key = TestKey.Es256("outcome-1");
    private readonly FakeControlPlane _controlPlane = new();

    public Task InitializeAsync() => _controlPlane.StartAsync();

    public Task DisposeAsync() => _controlPlane.DisposeAsync().AsTask();

    private sealed class FixedVerdict(RevocationVerdict verdict) : IRevocationCheck
    {
        public RevocationVerdict Check(EdgeIdentity identity) => verdict;

        public ValueTask<RevocationVerdict> ConfirmAsync(EdgeIdentity identity, CancellationToken cancellationToken) => new(verdict);
    }

    private (EdgeAuthenticator Authenticator, FailureBudget Budget) Tokens(RevocationVerdict verdict)
    {
        var issuer = new TrustedIssuer(new IssuerOptions { Issuer = Jwt.Issuer, Audiences = [Jwt.Audience], JwksUri = "x", Algorithms = [_key.Alg] });
        var registry = new IssuerRegistry([issuer]);
        Assert.True(JwksParser.TryParse(Encoding.UTF8.GetBytes(TestKey.Jwks(_key)), issuer, out var keys, out _));
        registry.Publish(issuer, new KeySet(keys, _time.GetUtcNow()));
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var budget = new FailureBudget(new FailureBudgetOptions { PerSecond = 1, Burst = 3 }, _time);
        var authenticator = new EdgeAuthenticator(new JwtValidator(registry, _time, new EdgeTokenOptions()), new TokenCache(64), budget,
            new FixedVerdict(verdict), new EdgeMetrics(meters, registry, _time), _time, new NegativeTokenCache(64));
        return (authenticator, budget);
    }

    private ApiKeyAuthenticator ApiKeys(RevocationVerdict verdict)
    {
        return new ApiKeyAuthenticator(new EdgeOptions(), new ApiKeyHotCache(64), new FusionCache(new FusionCacheOptions(), null, null),
            _controlPlane.EdgeClient(), new ApiKeyUsageCounters(), new FixedVerdict(verdict), _time, NullLogger<ApiKeyAuthenticator>.Instance);
    }

    [Fact]
    public void A_valid_token_is_accepted_and_a_forged_one_rejected_and_charged()
    {
        var (authenticator, budget) = Tokens(RevocationVerdict.Clean);
        var valid = Jwt.Mint(_key, _time.GetUtcNow(), sub: "user_ok");
        var accepted = authenticator.Authenticate(valid.AsSpan(), Client);
        Assert.Equal(AuthenticationKind.Accepted, accepted.Kind);
        Assert.Equal("user_ok", accepted.Identity!.Subject);
        Assert.Null(accepted.Error);

        var forged = valid[..(valid.LastIndexOf('.') + 1)] + Jwt.B64(new byte[64]);
        for (var i = 0; i < 3; i++)
        {
            var rejected = authenticator.Authenticate(forged.AsSpan(), Client);
            Assert.Equal(AuthenticationKind.Rejected, rejected.Kind);
            Assert.Same(EdgeError.BadSignature, rejected.Error);
            Assert.Null(rejected.Identity);
        }
        Assert.True(budget.IsExhausted(Client));
    }

    [Fact]
    public void An_unknown_kid_asks_for_a_key_refresh_and_is_charged_only_when_still_unknown()
    {
        var (authenticator, budget) = Tokens(RevocationVerdict.Clean);
        var stranger = TestKey.Es256("outcome-unknown");
        var token = Jwt.Mint(stranger, _time.GetUtcNow());
        for (var i = 0; i < 5; i++)
        {
            var outcome = authenticator.Authenticate(token.AsSpan(), Client);
            Assert.Equal(AuthenticationKind.NeedsKeyRefresh, outcome.Kind);
            Assert.Same(EdgeError.UnknownKey, outcome.Error); // what the client gets if the refresh does not explain it
        }
        Assert.False(budget.IsExhausted(Client)); // a kid a rotation may have just published: not charged before the refresh

        for (var i = 0; i < 3; i++)
        {
            var charged = authenticator.UnknownKeyAfterRefresh(Client);
            Assert.Equal(AuthenticationKind.Rejected, charged.Kind);
            Assert.Same(EdgeError.UnknownKey, charged.Error);
        }
        Assert.True(budget.IsExhausted(Client));
    }

    [Fact]
    public void A_bloom_positive_asks_for_confirmation_with_the_candidate_on_a_miss_and_on_a_cache_hit()
    {
        var (authenticator, budget) = Tokens(RevocationVerdict.Unconfirmed);
        var token = Jwt.Mint(_key, _time.GetUtcNow(), sub: "user_maybe");
        for (var i = 0; i < 2; i++)
        {
            var outcome = authenticator.Authenticate(token.AsSpan(), Client);
            Assert.Equal(AuthenticationKind.NeedsRevocationConfirmation, outcome.Kind);
            Assert.Equal("user_maybe", outcome.Identity!.Subject);
            Assert.Null(outcome.Error); // no error stands in for "ask Redis"
        }
        Assert.False(budget.IsExhausted(Client));
    }

    [Fact]
    public async Task Api_keys_answer_with_the_same_outcomes()
    {
        var authenticator = ApiKeys(RevocationVerdict.Clean);
        var key = _controlPlane.Issue("key_outcome", "org_1", ["read:things"]);
        Assert.Equal(AuthenticationKind.NeedsApiKeyLookup, authenticator.AuthenticateCached(key, Client).Kind);
        var looked = await authenticator.LookUpAsync(key, Client, default);
        Assert.Equal(AuthenticationKind.Accepted, looked.Kind);
        Assert.Equal("key_outcome", looked.Identity!.KeyId);
        var cached = authenticator.AuthenticateCached(key, Client);
        Assert.Equal(AuthenticationKind.Accepted, cached.Kind);

        var mistyped = authenticator.AuthenticateCached(key[..^1] + (key[^1] == 'a' ? 'b' : 'a'), Client);
        Assert.Equal(AuthenticationKind.Rejected, mistyped.Kind);
        Assert.Same(ApiKeyAuthenticator.Invalid, mistyped.Error);

        var testKey = authenticator.AuthenticateCached(ApiKeyFormat.Generate(ApiKeyEnvironment.Test), Client);
        Assert.Equal(AuthenticationKind.Rejected, testKey.Kind);
        Assert.Same(ApiKeyAuthenticator.TestKeyOnLiveEdge, testKey.Error);

        var unconfirmed = ApiKeys(RevocationVerdict.Unconfirmed);
        var pending = await unconfirmed.LookUpAsync(key, Client, default);
        Assert.Equal(AuthenticationKind.NeedsRevocationConfirmation, pending.Kind);
        Assert.Equal("key_outcome", pending.Identity!.KeyId);
        Assert.Null(pending.Error);
    }
}
