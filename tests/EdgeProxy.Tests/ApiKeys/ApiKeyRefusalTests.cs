using System.Net;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Revocation;
using Authio.Shared.ApiKeys;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZiggyCreatures.Caching.Fusion;

namespace Authio.EdgeProxy.Tests.ApiKeys;

/// <summary>
/// The synchronous API-key check checks a key's checksum only when the hot cache misses (a held key passed it when it
/// was looked up). What a client sees must not change for it: a malformed key is refused as invalid without a lookup
/// and charged to its address, whatever its prefix; only a well-formed key of the other environment gets the
/// environment message, uncharged; a key the hot cache holds answers without a second lookup.
/// </summary>
public sealed class ApiKeyRefusalTests : IAsyncLifetime
{
    private readonly FakeControlPlane _controlPlane = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private ApiKeyAuthenticator _authenticator = null!;

    public async Task InitializeAsync()
    {
        await _controlPlane.StartAsync();
        var options = new EdgeOptions();
        options.FailureBudget.Burst = 5;
        options.FailureBudget.PerSecond = 1;
        _authenticator = new ApiKeyAuthenticator(options, new ApiKeyHotCache(1024), new FusionCache(new FusionCacheOptions(), null, null),
            _controlPlane.EdgeClient(), new ApiKeyUsageCounters(), new RevocationStage(_time), _time, NullLogger<ApiKeyAuthenticator>.Instance);
    }

    public Task DisposeAsync() => _controlPlane.DisposeAsync().AsTask();

    private static string Typo(string key, int at) => key[..at] + (key[at] == 'a' ? 'b' : 'a') + key[(at + 1)..];

    private EdgeError? RefusalOf(string key, IPAddress client)
    {
        Assert.True(_authenticator.TryAuthenticateCached(key, client, out var identity, out var error), $"'{key}' went to a lookup");
        Assert.Null(identity);
        return error;
    }

    [Fact]
    public void Malformed_keys_are_invalid_whatever_their_prefix_and_never_looked_up()
    {
        var live = ApiKeyFormat.Generate(ApiKeyEnvironment.Live);
        var test = ApiKeyFormat.Generate(ApiKeyEnvironment.Test);
        var client = IPAddress.Parse("192.0.2.10");
        var malformed = new[]
        {
            Typo(live, 20), // the checksum catches it
            Typo(test, 20), // a test key's typo on a live edge: a guess, not a misconfigured client
            live[..^1] + 'é', // right length and prefix, beyond ASCII
            live[..30] + "-" + live[31..], // outside base62
            "sk_live_short",
        };
        foreach (var key in malformed)
        {
            Assert.Same(ApiKeyAuthenticator.Invalid, RefusalOf(key, client));
        }
        Assert.Same(ApiKeyAuthenticator.TestKeyOnLiveEdge, RefusalOf(test, client));
        Assert.Equal(0, _controlPlane.Lookups);
    }

    [Fact]
    public async Task Malformed_keys_spend_the_address_budget_and_the_other_environment_does_not()
    {
        var test = ApiKeyFormat.Generate(ApiKeyEnvironment.Test);
        var honest = IPAddress.Parse("192.0.2.20");
        for (var i = 0; i < 20; i++)
        {
            Assert.Same(ApiKeyAuthenticator.TestKeyOnLiveEdge, RefusalOf(test, honest));
        }
        var key = _controlPlane.Issue("key_honest", "org_1", ["read:things"]);
        Assert.False(_authenticator.TryAuthenticateCached(key, honest, out _, out _));
        var (accepted, error) = await _authenticator.AuthenticateAsync(key, honest, default);
        Assert.Null(error);
        Assert.Equal("key_honest", accepted!.KeyId);

        var guesser = IPAddress.Parse("192.0.2.21");
        for (var i = 0; i < 5; i++)
        {
            Assert.Same(ApiKeyAuthenticator.Invalid, RefusalOf(Typo(ApiKeyFormat.Generate(ApiKeyEnvironment.Test), 12), guesser));
        }
        var other = _controlPlane.Issue("key_other", "org_1", ["read:things"]);
        var (none, refused) = await _authenticator.AuthenticateAsync(other, guesser, default);
        Assert.Null(none);
        Assert.Same(EdgeError.TooManyFailures, refused);
    }

    [Fact]
    public async Task A_held_key_answers_from_the_hot_cache_and_its_typo_does_not()
    {
        var key = _controlPlane.Issue("key_held", "org_1", ["read:things"]);
        var client = IPAddress.Parse("192.0.2.30");
        await _authenticator.AuthenticateAsync(key, client, default);
        Assert.True(_authenticator.TryAuthenticateCached(key, client, out var identity, out var error));
        Assert.Null(error);
        Assert.Equal("key_held", identity!.KeyId);
        for (var at = ApiKeyFormat.PrefixLength; at < key.Length; at += 7)
        {
            Assert.Same(ApiKeyAuthenticator.Invalid, RefusalOf(Typo(key, at), IPAddress.Parse("192.0.2.31")));
        }
        Assert.Equal(1, _controlPlane.Lookups);
    }
}
