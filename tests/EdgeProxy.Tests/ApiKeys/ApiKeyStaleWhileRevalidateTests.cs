using System.Net;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Revocation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

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

    private readonly ApiKeyRecordChanges _changes = new();

    private ApiKeyAuthenticator Authenticator(TimeSpan? pushedRefresh = null, TimeSpan? cacheDuration = null, ApiKeyHotCache? hot = null)
    {
        var options = new EdgeOptions();
        options.ApiKeys.CacheDuration = cacheDuration ?? TimeSpan.FromMilliseconds(200); // FusionCache runs on the real clock: keep its half short
        options.ApiKeys.PushedRefreshInterval = pushedRefresh ?? TimeSpan.FromSeconds(1);
        // A first request to the loopback control plane can take seconds on a busy 2-core machine: these tests are not
        // about lookup timeouts (the default 2 s refused a lookup here, and a later cached check found nothing).
        options.ApiKeys.LookupTimeout = TimeSpan.FromSeconds(30);
        return new ApiKeyAuthenticator(options, hot ?? new ApiKeyHotCache(1024), ApiKeyServices.CreateCache(options, null, NullLoggerFactory.Instance), _controlPlane.EdgeClient(),
            new ApiKeyUsageCounters(), _revocations, _time, NullLogger<ApiKeyAuthenticator>.Instance, () => _pushed, changes: _changes);
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

    [Fact]
    public async Task With_a_live_feed_a_key_in_use_is_looked_up_once_per_pushed_interval_not_once_per_cache_duration()
    {
        var key = _controlPlane.Issue("key_pushed", "org_1", ["read:things"]);
        var authenticator = Authenticator(pushedRefresh: TimeSpan.FromMinutes(1));
        await authenticator.AuthenticateAsync(key, IPAddress.Loopback, default);
        for (var second = 0; second < 50; second += 5) // 150 × CacheDuration, within the pushed interval
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            Assert.True(authenticator.TryAuthenticateCached(key, IPAddress.Loopback, out var identity, out _));
            Assert.Equal("key_pushed", identity!.KeyId);
        }
        await Task.Delay(300);
        Assert.Equal(1, _controlPlane.Lookups);

        _time.Advance(TimeSpan.FromSeconds(15)); // past the pushed interval: refreshed in the background, still answering
        Assert.True(authenticator.TryAuthenticateCached(key, IPAddress.Loopback, out _, out _));
        await UntilLookups(2);
    }

    [Fact]
    public async Task A_pushed_change_drops_the_keys_cached_record_and_the_next_request_is_looked_up()
    {
        var changed = _controlPlane.Issue("key_rotated", "org_1", ["read:things"]);
        var other = _controlPlane.Issue("key_other", "org_1", ["read:things"]);
        var authenticator = Authenticator(pushedRefresh: TimeSpan.FromMinutes(10));
        Assert.Equal("key_rotated", (await authenticator.AuthenticateAsync(changed, IPAddress.Loopback, default)).Identity?.KeyId);
        Assert.Equal("key_other", (await authenticator.AuthenticateAsync(other, IPAddress.Loopback, default)).Identity?.KeyId);
        Assert.Equal(2, _controlPlane.Lookups);
        await Task.Delay(300); // FusionCache's copy (real clock) has expired too

        _changes.Changed("key_rotated");
        Assert.False(authenticator.TryAuthenticateCached(changed, IPAddress.Loopback, out _, out _)); // must be looked up again
        Assert.True(authenticator.TryAuthenticateCached(other, IPAddress.Loopback, out var kept, out _)); // another key is untouched
        Assert.Equal("key_other", kept!.KeyId);
        var (again, _) = await authenticator.AuthenticateAsync(changed, IPAddress.Loopback, default);
        Assert.Equal("key_rotated", again!.KeyId);
        Assert.Equal(3, _controlPlane.Lookups);
    }

    [Fact]
    public async Task A_pushed_change_also_drops_the_record_only_the_second_level_still_holds()
    {
        // The hot cache lost the secret (evicted, or shed under memory pressure) while FusionCache still holds its record
        // for minutes; the key is then rotated out without grace (its record at the control plane: revoked here).
        var hot = new ApiKeyHotCache(1024);
        var leaked = _controlPlane.Issue("key_leaked", "org_1", ["read:things"]);
        var authenticator = Authenticator(pushedRefresh: TimeSpan.FromMinutes(10), cacheDuration: TimeSpan.FromMinutes(10), hot: hot);
        var (before, _) = await authenticator.AuthenticateAsync(leaked, IPAddress.Loopback, default);
        Assert.Equal("key_leaked", before!.KeyId);
        hot.Clear();
        _controlPlane.Revoke("key_leaked");

        _changes.Changed("key_leaked");
        Assert.False(authenticator.TryAuthenticateCached(leaked, IPAddress.Loopback, out _, out _));
        // Not even as FusionCache's fail-safe answer while the control plane is down: the record is gone, not expired.
        _controlPlane.Down = true;
        var (unverified, cannotVerify) = await authenticator.AuthenticateAsync(leaked, IPAddress.Loopback, default);
        Assert.Null(unverified);
        Assert.Same(ApiKeyAuthenticator.CannotVerify, cannotVerify);
        _controlPlane.Down = false;
        var (after, refused) = await authenticator.AuthenticateAsync(leaked, IPAddress.Loopback, default);
        Assert.Null(after); // not FusionCache's copy from before the change
        Assert.Contains("revoked", refused!.Detail);
    }

    [Fact]
    public async Task After_the_feed_starts_over_from_a_snapshot_each_cached_record_is_refreshed_once()
    {
        var key = _controlPlane.Issue("key_resync", "org_1", ["read:things"]);
        var authenticator = Authenticator(pushedRefresh: TimeSpan.FromMinutes(10));
        await authenticator.AuthenticateAsync(key, IPAddress.Loopback, default);
        _time.Advance(TimeSpan.FromSeconds(5));
        await Task.Delay(300); // FusionCache's copy (real clock) has expired too
        _changes.Resynchronized(); // changes made while the edge was behind are not in a snapshot
        Assert.True(authenticator.TryAuthenticateCached(key, IPAddress.Loopback, out _, out _)); // still answers at once
        await UntilLookups(2);
        for (var i = 0; i < 500 && !authenticator.TryAuthenticateCached(key, IPAddress.Loopback, out _, out _); i++)
        {
            await Task.Delay(10);
        }
        _time.Advance(TimeSpan.FromSeconds(5)); // the refreshed record is trusted for the pushed interval again
        Assert.True(authenticator.TryAuthenticateCached(key, IPAddress.Loopback, out _, out _));
        await Task.Delay(300);
        Assert.Equal(2, _controlPlane.Lookups);
    }
}
