using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.EndToEnd;

/// <summary>
/// The real control plane's change feed driving the real edge: the edge knows the control plane only by URL and edge
/// key, and logout, logout-all and API-key revocation take effect at once — over the HTTP feed, and over Redis Streams.
/// </summary>
public abstract class EdgeSyncEndToEndTests(bool withRedis, bool postgres = false) : ControlPlaneAndEdge(withRedis, postgres)
{
    // Revocation must come from the feed, not cache expiry.
    private protected override void ConfigureEdge(Dictionary<string, string?> config) => config["Edge:ApiKeys:CacheDuration"] = "00:10:00";

    private protected async Task<HttpStatusCode> Status(string credential)
    {
        using var response = await Edge.GetAsync("/api/x", credential);
        return response.StatusCode;
    }

    private protected async Task UntilRejected(string credential, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (await Status(credential) == HttpStatusCode.Unauthorized)
            {
                return;
            }
            await Task.Delay(20);
        }
        Assert.Fail(what + " was still accepted after 10 s");
    }

    /// <summary>Rotates key <paramref name="id"/> with <paramref name="graceSeconds"/>; returns the new secret once the edge applied the change.</summary>
    private protected async Task<string> RotatePushedAsync(string admin, string id, int graceSeconds)
    {
        var sync = Edge.Services.GetRequiredService<Authio.EdgeProxy.Sync.EdgeSyncClient>();
        var applied = sync.Sequence;
        string secret;
        using (var rotate = await Cp.SendAsync(HttpMethod.Post, $"/v1/api-keys/{id}/rotate", admin, new { grace_period_seconds = graceSeconds }))
        {
            Assert.Equal(HttpStatusCode.Created, rotate.StatusCode);
            secret = (await rotate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        }
        var pushed = Stopwatch.StartNew();
        while (sync.Sequence == applied && pushed.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        Assert.True(sync.Sequence > applied, "the rotation was not pushed to the edge within 10 s");
        return secret;
    }

    [Fact]
    public async Task Logout_logout_all_and_key_revocation_reach_the_edge_at_once()
    {
        var login = await Cp.LoginAsync();
        var token = login.GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await Status(token)); // issuer and keys came from the snapshot alone

        using (var logout = await Cp.SendAsync(HttpMethod.Post, "/v1/auth/logout", token))
        {
            Assert.True(logout.IsSuccessStatusCode);
        }
        await UntilRejected(token, "a logged-out session");

        var other = await Cp.AccessTokenAsync();
        Assert.Equal(HttpStatusCode.OK, await Status(other));
        using (var me = await Cp.SendAsync(HttpMethod.Get, "/v1/users", other))
        {
            var users = await me.Content.ReadFromJsonAsync<JsonElement>();
            var id = (users.ValueKind == JsonValueKind.Array ? users : users.GetProperty("users")).EnumerateArray()
                .First(u => u.GetProperty("email").GetString() == RealControlPlane.AdminEmail).GetProperty("id").GetString();
            using var all = await Cp.SendAsync(HttpMethod.Post, $"/v1/users/{id}/logout-all", other);
            Assert.True(all.IsSuccessStatusCode, await all.Content.ReadAsStringAsync());
        }
        await UntilRejected(other, "a token issued before logout-all");

        var admin = await Cp.AccessTokenAsync();
        var key = await Cp.CreateApiKeyAsync(admin, "ci", ["read:applications"]);
        var secret = key.GetProperty("key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await Status(secret));
        using (var revoke = await Cp.SendAsync(HttpMethod.Delete, $"/v1/api-keys/{key.GetProperty("id").GetString()}", admin))
        {
            Assert.True(revoke.IsSuccessStatusCode);
        }
        await UntilRejected(secret, "a revoked API key");
    }

    [Fact]
    public async Task A_rotation_reaches_the_edge_by_push_although_it_caches_key_records_for_minutes()
    {
        var admin = await Cp.AccessTokenAsync();
        var key = await Cp.CreateApiKeyAsync(admin, "rotated", ["read:applications"]);
        var id = key.GetProperty("id").GetString()!;
        var first = key.GetProperty("key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await Status(first)); // cached now, for CacheDuration (10 min) at least

        // A rotation with a 60 s grace: both secrets work, and the old one stops at the grace end with no lookup.
        // The push must have landed before the edge's clock jumps: a jump past the long poll's window would have the
        // feed wait for a fake clock that no longer moves.
        var second = await RotatePushedAsync(admin, id, graceSeconds: 60);
        Assert.Equal(HttpStatusCode.OK, await Status(second));
        Assert.Equal(HttpStatusCode.OK, await Status(first));
        // The grace ends 60 s after the rotation on the control plane's clock, which is the real one; the edge's clock
        // stood still since its start (sign-in and setup may take seconds on a loaded machine), so it is set, not advanced.
        Edge.Time.SetUtcNow(DateTimeOffset.UtcNow + TimeSpan.FromSeconds(61));
        await UntilRejected(first, "a rotated-out secret past its grace");
        Assert.Equal(HttpStatusCode.OK, await Status(second));

        // A rotation without grace: the secret in use is refused at once.
        using (var rotate = await Cp.SendAsync(HttpMethod.Post, $"/v1/api-keys/{id}/rotate", admin, new { grace_period_seconds = 0 }))
        {
            Assert.Equal(HttpStatusCode.Created, rotate.StatusCode);
            var third = (await rotate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
            await UntilRejected(second, "a secret rotated out without grace");
            Assert.Equal(HttpStatusCode.OK, await Status(third));
        }
    }

    [Fact]
    public async Task A_secret_rotated_out_without_grace_is_refused_although_only_the_lookup_cache_still_held_it()
    {
        // Two orgs' keys cached at the edge; the hot cache then loses them (evicted, or shed under memory pressure) while
        // the lookup cache keeps their records for minutes. Org A's key leaks and is rotated out without grace.
        var adminA = await Cp.AccessTokenAsync();
        var keyA = await Cp.CreateApiKeyAsync(adminA, "leaked", ["read:applications"]);
        var leaked = keyA.GetProperty("key").GetString()!;
        var (orgB, adminB) = await Cp.SecondOrgAsync(adminA, "Other");
        var keyB = await Cp.CreateApiKeyAsync(adminB, "other-org", ["read:applications"]);
        var otherOrgs = keyB.GetProperty("key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await Status(leaked));
        Assert.Equal(HttpStatusCode.OK, await Status(otherOrgs));
        Edge.Services.GetRequiredService<Authio.EdgeProxy.ApiKeys.ApiKeyHotCache>().Clear();

        var replacement = await RotatePushedAsync(adminA, keyA.GetProperty("id").GetString()!, graceSeconds: 0);
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(leaked)); // at once: no cached record answers for it
        Assert.Equal(HttpStatusCode.OK, await Status(replacement));
        Assert.Equal(HttpStatusCode.OK, await Status(otherOrgs)); // the other org's key is untouched
        Assert.Equal(orgB, Upstream.Last.Headers["X-Authio-Org"]);
    }
}

public sealed class EdgeSyncOverHttpEndToEndTests() : EdgeSyncEndToEndTests(withRedis: false);

/// <summary>The same over the HTTP feed, the control plane on PostgreSQL under row-level security.</summary>
public sealed class EdgeSyncOverHttpPostgresEndToEndTests() : EdgeSyncEndToEndTests(withRedis: false, postgres: true);

public sealed class EdgeSyncOverRedisEndToEndTests() : EdgeSyncEndToEndTests(withRedis: true)
{
    [Fact]
    public async Task The_edge_settles_revocations_in_the_set_the_control_plane_keeps_in_redis_and_fails_closed_without_it()
    {
        var token = (await Cp.LoginAsync()).GetProperty("access_token").GetString()!;
        var sid = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).GetPayloadValue<string>("sid");
        using (var logout = await Cp.SendAsync(HttpMethod.Post, "/v1/auth/logout", token))
        {
            Assert.True(logout.IsSuccessStatusCode);
        }
        await UntilRejected(token, "a logged-out session");
        var stage = Edge.Services.GetRequiredService<Authio.EdgeProxy.Revocation.RevocationStage>();
        Assert.True(stage.Current.RemoteExact);
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Redis!.ConnectionString + ",syncTimeout=5000,allowAdmin=true");
        var db = redis.GetDatabase();
        var key = Shared.Sync.EdgeSyncPaths.RedisRevokedKey(Shared.Sync.RevocationKinds.SessionId, sid);
        Assert.True(await db.KeyExistsAsync(key), "the control plane mirrors each revocation into Redis");
        Assert.True(await db.KeyTimeToLiveAsync(key) is { } ttl && ttl > TimeSpan.Zero, "and lets it expire with what it revokes");
        Assert.True((long)await db.StringGetAsync(Shared.Sync.EdgeSyncPaths.RedisRevokedThrough) >= stage.Current.Sequence);

        // Redis loses its data: the control plane notices the missing marker and seeds the set again.
        await db.ExecuteAsync("FLUSHALL");
        var clock = Stopwatch.StartNew();
        while (!await db.KeyExistsAsync(Shared.Sync.EdgeSyncPaths.RedisRevokedThrough) && clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(50);
        }
        Assert.True(await db.KeyExistsAsync(key), "re-seeded after the flush");
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(token));

        // Redis gone: the revoked session stays rejected, a fresh sign-in still works.
        Redis.Kill();
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(token));
        var fresh = (await Cp.LoginAsync()).GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await Status(fresh));
    }
}
