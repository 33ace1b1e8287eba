using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.ApiKeys;
using Authio.Shared.Sync;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Tests.EndToEnd;

/// <summary>
/// Redis is a cache, never an authority: an attacker who can write to the Redis that the control plane and the edges
/// share forges a JWKS change in the edge stream and API-key records in the L2 — and no forged credential gets through,
/// while genuine changes keep arriving.
/// </summary>
public sealed class RedisTrustEndToEndTests() : ControlPlaneAndEdge(withRedis: true)
{
    private static readonly string CacheSigningKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private protected override void ConfigureEdge(Dictionary<string, string?> config) => config["Edge:ApiKeys:CacheSigningKey"] = CacheSigningKey;

    private async Task<HttpStatusCode> Status(string credential)
    {
        using var response = await Edge.GetAsync("/api/x", credential);
        return response.StatusCode;
    }

    private async Task<ConnectionMultiplexer> AttackerAsync() =>
        await ConnectionMultiplexer.ConnectAsync(Redis!.ConnectionString + ",syncTimeout=5000,allowAdmin=true");

    private async Task<string> MetricsAsync() => await Edge.Admin.GetStringAsync("/metrics");

    [RedisFact]
    public async Task A_forged_jwks_change_in_the_stream_is_dropped_counted_and_the_genuine_change_still_arrives()
    {
        var login = await Cp.LoginAsync();
        var genuine = login.GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await Status(genuine));

        // The attacker's token: the genuine claims, signed by the attacker's key.
        var attackerKey = TestKey.Es256("attacker-key");
        var payload = Encoding.UTF8.GetString(Jwt.B64Decode(genuine.Split('.')[1]));
        var forgedToken = Jwt.Sign(attackerKey, Jwt.Header(attackerKey), payload);
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(forgedToken));

        // The genuine key set plus the attacker's key, as the next change of the log, signed with a key of the attacker's
        // own (and once with the control plane's kid but a garbage signature, and once with no signature at all).
        var jwks = JsonNode.Parse(await Cp.Http.GetStringAsync("/.well-known/jwks.json"))!;
        jwks["keys"]!.AsArray().Add(JsonSerializer.SerializeToNode(attackerKey.PublicJwk()));
        var stage = Edge.Services.GetRequiredService<RevocationStage>();
        var next = stage.Current.Sequence + 1;
        var change = new JsonObject { ["seq"] = next, ["type"] = "jwks", ["revocation"] = null, ["jwks"] = jwks }.ToJsonString();
        await using var attacker = await AttackerAsync();
        var db = attacker.GetDatabase();
        var realKid = (string?)(await db.StreamRangeAsync(EdgeSyncPaths.RedisStream, "-", "+", count: 1))[0][EdgeSyncPaths.RedisKeyIdField];
        Assert.NotNull(realKid);
        using var ownKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        await db.StreamAddAsync(EdgeSyncPaths.RedisStream,
            [new(EdgeSyncPaths.RedisChangeField, change), new(EdgeSyncPaths.RedisSignatureField, Base64Url.EncodeToString(new byte[64])), new(EdgeSyncPaths.RedisKeyIdField, realKid)],
            $"{next}-0");
        await db.StreamAddAsync(EdgeSyncPaths.RedisStream,
            [new(EdgeSyncPaths.RedisChangeField, change.Replace($"\"seq\":{next}", $"\"seq\":{next + 1}", StringComparison.Ordinal)),
             new(EdgeSyncPaths.RedisSignatureField, EdgeFeedSignature.Sign(ownKey, Encoding.UTF8.GetBytes(change))), new(EdgeSyncPaths.RedisKeyIdField, realKid)],
            $"{next + 1}-0");
        await db.StreamAddAsync(EdgeSyncPaths.RedisStream,
            [new(EdgeSyncPaths.RedisChangeField, change.Replace($"\"seq\":{next}", $"\"seq\":{next + 2}", StringComparison.Ordinal))], $"{next + 2}-0");
        await db.PublishAsync(RedisChannel.Literal(EdgeSyncPaths.RedisNotifyChannel), next + 2);

        var clock = Stopwatch.StartNew();
        string metrics;
        while (!(metrics = await MetricsAsync()).Split('\n').Any(l => l.StartsWith("authio_edge_feed_rejected_total", StringComparison.Ordinal) && l.Contains("bad_signature", StringComparison.Ordinal)))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the forged entry was never counted: " + string.Join('\n', metrics.Split('\n').Where(l => l.Contains("feed", StringComparison.Ordinal))) + " seq " + stage.Current.Sequence);
            await Task.Delay(100);
        }
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await Status(forgedToken));
            await Task.Delay(50);
        }
        Assert.Equal(HttpStatusCode.OK, await Status(genuine));
        Assert.True(stage.Current.Sequence < next, "nothing forged moved the edge's position");

        // A genuine change (a logout) gets a sequence the forged entries already occupy in the stream: it arrives over HTTP.
        using (var logout = await Cp.SendAsync(HttpMethod.Post, "/v1/auth/logout", genuine))
        {
            Assert.True(logout.IsSuccessStatusCode);
        }
        clock.Restart();
        while (await Status(genuine) != HttpStatusCode.Unauthorized)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the genuine logout never reached the edge");
            await Task.Delay(50);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(forgedToken));
        var fresh = await Cp.AccessTokenAsync();
        Assert.Equal(HttpStatusCode.OK, await Status(fresh));
    }

    [RedisFact]
    public async Task Redis_cannot_withhold_a_revocation_the_http_feed_is_asked_every_30_seconds()
    {
        var token = await Cp.AccessTokenAsync();
        Assert.Equal(HttpStatusCode.OK, await Status(token));
        // The attacker occupies a far-future stream id and deletes it: every later append by the control plane is
        // refused (ids must grow) and the stream shows the edge nothing new.
        await using var attacker = await AttackerAsync();
        var db = attacker.GetDatabase();
        await db.StreamAddAsync(EdgeSyncPaths.RedisStream, EdgeSyncPaths.RedisChangeField, "{}", "999999999-0");
        await db.StreamDeleteAsync(EdgeSyncPaths.RedisStream, ["999999999-0"]);
        using (var logout = await Cp.SendAsync(HttpMethod.Post, "/v1/auth/logout", token))
        {
            Assert.True(logout.IsSuccessStatusCode);
        }
        Edge.Time.Advance(TimeSpan.FromSeconds(31));
        var clock = Stopwatch.StartNew();
        while (await Status(token) != HttpStatusCode.Unauthorized)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the withheld logout never reached the edge");
            await Task.Delay(50);
        }
    }

    [RedisFact]
    public async Task Stream_entries_written_by_the_control_plane_carry_a_valid_signature_by_the_snapshot_feed_key()
    {
        var token = await Cp.AccessTokenAsync();
        using (var logout = await Cp.SendAsync(HttpMethod.Post, "/v1/auth/logout", token))
        {
            Assert.True(logout.IsSuccessStatusCode);
        }
        var edgeKey = (await Cp.CreateApiKeyAsync(await Cp.AccessTokenAsync(), "sig-check", ["edge:sync"])).GetProperty("key").GetString()!;
        using var request = new HttpRequestMessage(HttpMethod.Get, EdgeSyncPaths.Snapshot);
        request.Headers.Authorization = new("Bearer", edgeKey);
        using var response = await Cp.Http.SendAsync(request);
        var snapshot = (await response.Content.ReadFromJsonAsync<EdgeSnapshot>())!;
        Assert.NotNull(snapshot.FeedKey);
        Assert.Equal("ES256", snapshot.FeedKey!.Algorithm);
        using var key = EdgeFeedSignature.Import(snapshot.FeedKey);
        Assert.NotNull(key);

        await using var reader = await AttackerAsync();
        var db = reader.GetDatabase();
        var clock = Stopwatch.StartNew();
        StreamEntry[] entries;
        while (!(entries = await db.StreamRangeAsync(EdgeSyncPaths.RedisStream, "-", "+")).Any(e => ((string)e[EdgeSyncPaths.RedisChangeField]!).Contains("\"type\":\"revocation\"", StringComparison.Ordinal)))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the control plane did not mirror its changes: " + string.Join(", ", entries.Select(e => (string?)e[EdgeSyncPaths.RedisChangeField])));
            await Task.Delay(50);
        }
        foreach (var entry in entries)
        {
            var bytes = (byte[])entry[EdgeSyncPaths.RedisChangeField]!;
            Assert.Equal(snapshot.FeedKey.Kid, (string?)entry[EdgeSyncPaths.RedisKeyIdField]);
            Assert.True(EdgeFeedSignature.Verify(key!, bytes, (string)entry[EdgeSyncPaths.RedisSignatureField]!), $"entry {entry.Id}");
            bytes[^2] ^= 1;
            Assert.False(EdgeFeedSignature.Verify(key!, bytes, (string)entry[EdgeSyncPaths.RedisSignatureField]!));
        }
        Assert.Contains(entries, e => ((string)e[EdgeSyncPaths.RedisChangeField]!).Contains("\"type\":\"org_keys\"", StringComparison.Ordinal));
        Assert.Contains(entries, e => ((string)e[EdgeSyncPaths.RedisChangeField]!).Contains("\"type\":\"revocation\"", StringComparison.Ordinal));
    }

    [RedisFact]
    public async Task Forged_and_transplanted_api_key_records_in_the_l2_never_authenticate()
    {
        var admin = await Cp.AccessTokenAsync();
        var real = (await Cp.CreateApiKeyAsync(admin, "real", ["read:applications"])).GetProperty("key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await Status(real));
        await using var attacker = await AttackerAsync();
        var db = attacker.GetDatabase();
        var server = attacker.GetServer(attacker.GetEndPoints()[0]);
        var realDigest = Base64Url.EncodeToString(ApiKeyFormat.ComputeDigest(real));
        string? realEntry;
        var clock = Stopwatch.StartNew();
        while ((realEntry = server.Keys(pattern: "*" + realDigest + "*").Select(k => (string?)k).FirstOrDefault()) is null)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the edge never wrote the key's record to the L2");
            await Task.Delay(50);
        }
        var sealedValue = (byte[])(await db.HashGetAsync(realEntry, "data"))!;

        // 1. The genuine, MAC'd record copied under the digest of a made-up (well-formed) key.
        var madeUp = ApiKeyFormat.Generate(ApiKeyEnvironment.Live);
        var madeUpEntry = realEntry.Replace(realDigest, Base64Url.EncodeToString(ApiKeyFormat.ComputeDigest(madeUp)), StringComparison.Ordinal);
        Assert.True(await db.KeyCopyAsync(realEntry, madeUpEntry));
        // 2. The same record without its MAC (what an attacker can write without the key), under another made-up key.
        var unsigned = ApiKeyFormat.Generate(ApiKeyEnvironment.Live);
        var unsignedEntry = realEntry.Replace(realDigest, Base64Url.EncodeToString(ApiKeyFormat.ComputeDigest(unsigned)), StringComparison.Ordinal);
        Assert.True(await db.KeyCopyAsync(realEntry, unsignedEntry));
        await db.HashSetAsync(unsignedEntry, "data", sealedValue.AsSpan(33).ToArray());

        Assert.Equal(HttpStatusCode.Unauthorized, await Status(madeUp));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(unsigned));
        Assert.Equal(HttpStatusCode.OK, await Status(real));
    }
}

/// <summary>
/// A user's not-before is per org: one user in org A and org B logs out everywhere in A — the A token is refused at the
/// edge and reported inactive by introspection, the B token keeps working (HTTP feed; Redis feed with the exact set in Redis).
/// </summary>
public abstract class PerOrgNotBeforeEndToEndTests(bool withRedis, bool postgres = false) : ControlPlaneAndEdge(withRedis, postgres)
{
    private protected async Task<HttpStatusCode> Status(string credential)
    {
        using var response = await Edge.GetAsync("/api/x", credential);
        return response.StatusCode;
    }

    private static string Claim(string token, string name) =>
        JsonDocument.Parse(Jwt.B64Decode(token.Split('.')[1])).RootElement.GetProperty(name).GetString()!;

    private async Task<string> LoginAsync(string orgId)
    {
        using var response = await Cp.Http.PostAsJsonAsync("/v1/auth/login", new { email = RealControlPlane.AdminEmail, password = RealControlPlane.Password, org_id = orgId });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    private async Task<bool> ActiveAsync(string edgeKey, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/introspect") { Content = new FormUrlEncodedContent([new("token", token)]) };
        request.Headers.Authorization = new("Bearer", edgeKey);
        using var response = await Cp.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("active").GetBoolean();
    }

    private protected async Task<(string OrgA, string User, string TokenA, string TokenB)> LogOutEverywhereInOrgAAsync()
    {
        var first = await Cp.AccessTokenAsync();
        var orgA = Claim(first, "org");
        var user = Claim(first, "sub");
        string orgB;
        using (var created = await Cp.SendAsync(HttpMethod.Post, "/v1/orgs", first, new { name = "Beta" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            orgB = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }
        var edgeKey = (await Cp.CreateApiKeyAsync(first, "introspect", ["edge:sync"])).GetProperty("key").GetString()!;
        var tokenA = await LoginAsync(orgA);
        var tokenB = await LoginAsync(orgB);
        Assert.Equal(orgB, Claim(tokenB, "org"));
        Assert.Equal(user, Claim(tokenB, "sub")); // one user, two orgs
        Assert.Equal(HttpStatusCode.OK, await Status(tokenA));
        Assert.Equal(HttpStatusCode.OK, await Status(tokenB));

        using (var all = await Cp.SendAsync(HttpMethod.Post, $"/v1/users/{user}/logout-all", tokenA))
        {
            Assert.True(all.IsSuccessStatusCode, await all.Content.ReadAsStringAsync());
        }
        var clock = Stopwatch.StartNew();
        while (await Status(tokenA) != HttpStatusCode.Unauthorized)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "logout-all in org A never reached the edge");
            await Task.Delay(20);
        }
        Assert.Equal(HttpStatusCode.OK, await Status(tokenB));
        Assert.False(await ActiveAsync(edgeKey, tokenA), "introspection: the A token is revoked");
        Assert.True(await ActiveAsync(edgeKey, tokenB), "introspection: the B token is not");
        return (orgA, user, tokenA, tokenB);
    }

    [StoreFact]
    public async Task Logout_all_in_one_org_leaves_the_same_users_tokens_of_another_org_working() => await LogOutEverywhereInOrgAAsync();
}

public sealed class PerOrgNotBeforeOverHttpEndToEndTests() : PerOrgNotBeforeEndToEndTests(withRedis: false);

public sealed class PerOrgNotBeforeOverHttpPostgresEndToEndTests() : PerOrgNotBeforeEndToEndTests(withRedis: false, postgres: true);

public sealed class PerOrgNotBeforeOverRedisEndToEndTests() : PerOrgNotBeforeEndToEndTests(withRedis: true)
{
    [RedisFact]
    public async Task The_per_org_not_before_is_settled_in_the_redis_exact_set()
    {
        var (orgA, user, tokenA, tokenB) = await LogOutEverywhereInOrgAAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Redis!.ConnectionString + ",syncTimeout=5000");
        var db = redis.GetDatabase();
        Assert.True(await db.KeyExistsAsync(EdgeSyncPaths.RedisUserNotBeforeKey(orgA, user)), "keyed by org and user");
        Assert.False(await db.KeyExistsAsync(EdgeSyncPaths.RedisRevokedKey(RevocationKinds.UserNotBefore, user)), "never by user alone");

        // Once Redis holds it, the edge keeps only the filter: the answers now come from the exact set in Redis.
        var stage = Edge.Services.GetRequiredService<RevocationStage>();
        Assert.True(stage.Current.RemoteExact);
        var clock = Stopwatch.StartNew();
        while (stage.Current.Count > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the edge never pruned what Redis holds");
            await Task.Delay(50);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(tokenA));
        Assert.Equal(HttpStatusCode.OK, await Status(tokenB));
    }
}
