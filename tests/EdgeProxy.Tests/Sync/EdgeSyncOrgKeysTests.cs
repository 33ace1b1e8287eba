using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.Sync;

/// <summary>Per-org keys from the control plane's feed: bound to their org, updated one org at a time, refused safely.</summary>
public sealed class EdgeSyncOrgKeysTests() : FakeFeedAndEdge(TestKey.Es256("cp-legacy"))
{
    /// <summary>The JWK set of <paramref name="keys"/>, each naming <paramref name="org"/> as the control plane publishes them.</summary>
    private static string OrgJwks(string? org, params TestKey[] keys)
    {
        var set = JsonNode.Parse(TestKey.Jwks(keys))!;
        if (org is not null)
        {
            foreach (var key in set["keys"]!.AsArray())
            {
                key!["org"] = org;
            }
        }
        return set.ToJsonString();
    }

    private string Mint(TestKey key, string org) =>
        Jwt.Sign(key, Jwt.Header(key), Jwt.Claims(Edge.Time.GetUtcNow(), org: org, iss: FakeFeed.Issuer, aud: $"\"{FakeFeed.Audience}\""));

    private async Task<HttpStatusCode> Status(string token)
    {
        using var response = await Edge.GetAsync("/api/x", token);
        return response.StatusCode;
    }

    private async Task Until(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await condition())
            {
                return;
            }
            Edge.Time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(25);
        }
        Assert.Fail("Timed out waiting for: " + what);
    }

    private async Task<JsonElement> ReadyzAsync()
    {
        using var response = await Edge.Admin.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task A_new_orgs_first_token_is_accepted_even_before_the_feed_delivers_the_orgs_key()
    {
        // The org's key is committed at the control plane (its token is minted after), but the long poll has not brought it yet.
        Feed.HoldLongPolls = true;
        var key = TestKey.Es256("k_org_new");
        Feed.SetOrgKeys("org_new", OrgJwks("org_new", key));

        Assert.Equal(HttpStatusCode.OK, await Status(Mint(key, "org_new")));
        Assert.Equal(1, Feed.ImmediateReads);
        Assert.Equal("org_new", Upstream.Last.Header("X-Authio-Org"));
    }

    [Fact]
    public async Task Tokens_naming_unknown_kids_are_refused_and_cost_the_control_plane_at_most_one_read_per_interval()
    {
        var stranger = TestKey.Es256("k_forged");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await Status(Mint(stranger, "org_a")));
        }
        Assert.Equal(1, Feed.ImmediateReads);

        // Past the interval, an unknown kid may look again.
        Edge.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(Mint(stranger, "org_a")));
        Assert.Equal(2, Feed.ImmediateReads);
    }

    [Fact]
    public async Task A_key_of_one_org_never_validates_a_token_of_another_org()
    {
        var keyA = TestKey.Es256("k_org_a");
        var keyB = TestKey.Es256("k_org_b");
        Feed.SetOrgKeys("org_a", OrgJwks("org_a", keyA));
        Feed.SetOrgKeys("org_b", OrgJwks("org_b", keyB));
        await Until(async () => await Status(Mint(keyB, "org_b")) == HttpStatusCode.OK, "org B's key");
        Assert.Equal(HttpStatusCode.OK, await Status(Mint(keyA, "org_a")));

        // A valid signature by org B's key on a token that claims org A: 401 unauthorized, nothing reaches the upstream.
        var before = Upstream.Received.Count;
        using (var response = await Edge.GetAsync("/api/x", Mint(keyB, "org_a")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("\"code\":\"unauthorized\"", await response.Content.ReadAsStringAsync());
        }
        // Claims without an org, or an escaped spelling of another org, are refused too; an escaped spelling of its own org is fine.
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(Jwt.Sign(keyB, Jwt.Header(keyB),
            Jwt.Claims(Edge.Time.GetUtcNow(), iss: FakeFeed.Issuer, aud: $"\"{FakeFeed.Audience}\"").Replace("\"org\":\"org_1\",", ""))));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(Mint(keyB, "org\\u005fa")));
        Assert.Equal(HttpStatusCode.OK, await Status(Mint(keyB, "org\\u005fb")));
        Assert.Equal(before, Upstream.Received.Count - 1);
        // The legacy key (no org, from the snapshot) keeps today's behaviour until it leaves the key set.
        Assert.Equal(HttpStatusCode.OK, await Status(Mint(Feed.Key, "org_a")));
        Feed.SetOrgKeys(null, OrgJwks(null));
        await Until(async () => await Status(Mint(Feed.Key, "org_a")) == HttpStatusCode.Unauthorized, "legacy keys leaving");

        // Org B's keys change (its key revoked and replaced): org A's tokens are untouched.
        var keyB2 = TestKey.Es256("k_org_b2");
        var tokenA = Mint(keyA, "org_a");
        Feed.SetOrgKeys("org_b", OrgJwks("org_b", keyB2));
        await Until(async () => await Status(Mint(keyB, "org_b")) == HttpStatusCode.Unauthorized, "org B's old key leaving");
        Assert.Equal(HttpStatusCode.OK, await Status(Mint(keyB2, "org_b")));
        Assert.Equal(HttpStatusCode.OK, await Status(tokenA));
    }

    [Fact]
    public async Task A_key_set_the_edge_cannot_take_keeps_the_last_good_keys_is_reported_and_a_later_valid_update_recovers()
    {
        var keyA = TestKey.Es256("k_a1");
        Feed.SetOrgKeys("org_a", OrgJwks("org_a", keyA));
        await Until(async () => await Status(Mint(keyA, "org_a")) == HttpStatusCode.OK, "org A's key");
        Assert.Equal("ready", (await ReadyzAsync()).GetProperty("status").GetString());

        // A bad update of org A: a key that names another org inside org A's set (and over the per-org bound, next).
        var keyA2 = TestKey.Es256("k_a2");
        Feed.SetOrgKeys("org_a", OrgJwks("org_b", keyA2));
        await Until(async () => (await ReadyzAsync()).GetProperty("status").GetString() == "keys_refused", "the refusal on /readyz");
        var refused = (await ReadyzAsync()).GetProperty("refusedKeySets").EnumerateArray().Single();
        Assert.Equal("org_a", refused.GetProperty("org").GetString());
        Assert.Contains("org_b", refused.GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.OK, await Status(Mint(keyA, "org_a"))); // last good keys kept
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(Mint(keyA2, "org_a")));
        var registry = Edge.Services.GetRequiredService<IssuerRegistry>();
        Assert.Equal(1, registry.Health.RefusedCount);
        Assert.Equal(1, registry.Health.RefusedTotal);
        using (var metrics = await Edge.Admin.GetAsync("/metrics"))
        {
            var text = await metrics.Content.ReadAsStringAsync();
            // The value is the registry's count asserted above; meters are process-wide, so parallel test hosts' edges
            // report under the same name and only the series' presence is asserted here.
            Assert.Contains("authio_edge_key_set_refused", text);
            Assert.Contains("authio_edge_key_set_refusals", text);
        }

        var tooMany = Enumerable.Range(0, JwksParser.MaxKeysPerOrg + 1).Select(i => TestKey.Es256("k_many" + i)).ToArray();
        Feed.SetOrgKeys("org_a", OrgJwks("org_a", tooMany));
        await Until(() => Task.FromResult(registry.Health.RefusedTotal == 2), "the over-bound refusal");
        Assert.Equal(HttpStatusCode.OK, await Status(Mint(keyA, "org_a")));

        // A later valid update recovers without a restart.
        Feed.SetOrgKeys("org_a", OrgJwks("org_a", keyA2));
        await Until(async () => await Status(Mint(keyA2, "org_a")) == HttpStatusCode.OK, "org A's new key");
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(Mint(keyA, "org_a")));
        Assert.Equal("ready", (await ReadyzAsync()).GetProperty("status").GetString());
        Assert.Equal(0, registry.Health.RefusedCount);
    }
}
