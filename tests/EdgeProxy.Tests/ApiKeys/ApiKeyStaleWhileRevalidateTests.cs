using System.Net;
using System.Net.Http.Headers;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Revocation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ZiggyCreatures.Caching.Fusion;

namespace Authio.EdgeProxy.Tests.ApiKeys;

/// <summary>
/// While revocations are pushed to the edge, a known key whose cached record went stale keeps answering from memory and
/// is refreshed in the background: the request path never waits on the control plane for it.
/// </summary>
public sealed class ApiKeyStaleWhileRevalidateTests : IAsyncLifetime
{
    private readonly FakeControlPlane _controlPlane = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly RevocationStage _revocations;
    private bool _pushed = true;

    public ApiKeyStaleWhileRevalidateTests() => _revocations = new RevocationStage(_time);

    public Task InitializeAsync() => _controlPlane.StartAsync();

    public Task DisposeAsync() => _controlPlane.DisposeAsync().AsTask();

    private ApiKeyAuthenticator Authenticator()
    {
        var options = new EdgeOptions();
        options.ApiKeys.CacheDuration = TimeSpan.FromMilliseconds(200); // FusionCache runs on the real clock: keep its half short
        var http = new HttpClient { BaseAddress = new Uri(_controlPlane.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _controlPlane.EdgeKey);
        return new ApiKeyAuthenticator(options, new ApiKeyHotCache(1024), new FusionCache(new FusionCacheOptions(), null, null), new ControlPlaneClient(http),
            new ApiKeyUsageCounters(), _revocations, _time, NullLogger<ApiKeyAuthenticator>.Instance, () => _pushed);
    }

    private async Task UntilLookups(int count)
    {
        for (var i = 0; i < 500 && _controlPlane.Lookups < count; i++)
        {
            await Task.Delay(10);
        }
        Assert.Equal(count, _controlPlane.Lookups);
    }

    [Fact]
    public async Task A_stale_known_key_answers_at_once_and_is_refreshed_in_the_background()
    {
        var key = _controlPlane.Issue("key_swr", "org_1", ["read:things"]);
        var authenticator = Authenticator();
        Assert.False(authenticator.TryAuthenticateCached(key, IPAddress.Loopback, out _, out _)); // never seen: must be looked up
        var (first, _) = await authenticator.AuthenticateAsync(key, IPAddress.Loopback, default);
        Assert.Equal("key_swr", first!.KeyId);

        _time.Advance(TimeSpan.FromSeconds(10)); // past CacheDuration: the hot entry is stale
        await Task.Delay(300); // and FusionCache's copy too (real clock)
        _controlPlane.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Synchronous, while the control plane is still holding the refresh: nothing on the request path waited for it.
        Assert.True(authenticator.TryAuthenticateCached(key, IPAddress.Loopback, out var stale, out var error));
        Assert.Null(error);
        Assert.Equal("key_swr", stale!.KeyId);
        Assert.True(authenticator.TryAuthenticateCached(key, IPAddress.Loopback, out _, out _));
        await UntilLookups(2); // one background refresh, however many stale requests
        _controlPlane.Hold.SetResult();
        _pushed = false; // from now on only a fresh entry answers without a lookup
        for (var i = 0; i < 500 && !authenticator.TryAuthenticateCached(key, IPAddress.Loopback, out _, out _); i++)
        {
            await Task.Delay(10);
        }
        Assert.True(authenticator.TryAuthenticateCached(key, IPAddress.Loopback, out var refreshed, out _), "the background refresh made the entry fresh again");
        Assert.Equal("key_swr", refreshed!.KeyId);

        // A revocation pushed meanwhile still takes effect on the stale entry.
        _revocations.Apply([new RevokedId(RevocationKind.ApiKey, "key_swr", _time.GetUtcNow().AddHours(1).ToUnixTimeSeconds())], 1);
        Assert.True(authenticator.TryAuthenticateCached(key, IPAddress.Loopback, out var revoked, out var refused));
        Assert.Null(revoked);
        Assert.Contains("revoked", refused!.Detail);
    }

    [Fact]
    public async Task Without_a_live_feed_a_stale_key_waits_for_the_lookup_as_before()
    {
        var key = _controlPlane.Issue("key_nofeed", "org_1", ["read:things"]);
        var authenticator = Authenticator();
        await authenticator.AuthenticateAsync(key, IPAddress.Loopback, default);
        _pushed = false;
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(authenticator.TryAuthenticateCached(key, IPAddress.Loopback, out _, out _));
        Assert.Equal(1, _controlPlane.Lookups);
    }
}
