using System.Net;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Sync;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.Sync;

/// <summary>An edge configured only with a control plane: issuer, keys and revocations all come from the feed.</summary>
public sealed class EdgeSyncTests() : FakeFeedAndEdge(TestKey.Es256("cp-key-1"))
{
    private string Mint(string sid, string sub = "user_1") => Jwt.Sign(Feed.Key, Jwt.Header(Feed.Key),
        Jwt.Claims(Edge.Time.GetUtcNow(), sub: sub, iss: FakeFeed.Issuer, aud: $"\"{FakeFeed.Audience}\"").Replace("\"sess_1\"", $"\"{sid}\""));

    private async Task<HttpStatusCode> Status(string token)
    {
        using var response = await Edge.GetAsync("/api/x", token);
        return response.StatusCode;
    }

    /// <summary>Polls a condition, moving the fake clock so the feed's retry back-off elapses.</summary>
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

    private long Exp => Edge.Time.GetUtcNow().AddHours(1).ToUnixTimeSeconds();

    [Fact]
    public async Task Issuer_and_keys_come_from_the_snapshot_and_revocations_apply_within_moments()
    {
        var token = Mint("sess_a");
        Assert.Equal(HttpStatusCode.OK, await Status(token));
        Assert.Equal(HttpStatusCode.OK, await Status(token)); // cached
        using (var ready = await Edge.Admin.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        Feed.Revoke(RevocationKinds.SessionId, "sess_a", Exp);
        await Until(async () => await Status(token) == HttpStatusCode.Unauthorized, "session revocation");
        Assert.Equal(HttpStatusCode.OK, await Status(Mint("sess_b")));
    }

    [Fact]
    public async Task A_revoked_signing_key_and_a_rotated_jwks_take_effect()
    {
        var old = Mint("sess_k");
        Assert.Equal(HttpStatusCode.OK, await Status(old));
        var next = TestKey.Es256("cp-key-2");
        var oldKey = Feed.Key;
        Feed.RotateTo(next);
        Feed.Revoke(RevocationKinds.SigningKey, oldKey.Kid, Exp);
        await Until(async () => await Status(old) == HttpStatusCode.Unauthorized, "old key revoked");
        Assert.Equal(HttpStatusCode.OK, await Status(Mint("sess_new")));
    }

    [Fact]
    public async Task Revocations_made_while_disconnected_are_all_applied_in_order_after_reconnecting()
    {
        var tokens = Enumerable.Range(0, 100).Select(i => Mint("sess_" + i)).ToArray();
        foreach (var token in tokens.Take(3))
        {
            Assert.Equal(HttpStatusCode.OK, await Status(token));
        }
        Feed.Down = true;
        await Task.Delay(300);
        for (var i = 0; i < 100; i++)
        {
            Feed.Revoke(RevocationKinds.SessionId, "sess_" + i, Exp);
        }
        // Down: the edge keeps serving with its last state.
        Assert.Equal(HttpStatusCode.OK, await Status(tokens[50]));
        Feed.Down = false;
        var revocations = Edge.Services.GetRequiredService<RevocationStage>();
        await Until(() => Task.FromResult(revocations.Current.Sequence == 100), "catch-up");
        foreach (var token in tokens)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await Status(token));
        }
    }

    [Fact]
    public async Task A_gap_in_the_log_triggers_a_fresh_snapshot()
    {
        var before = Feed.Snapshots;
        Feed.Revoke(RevocationKinds.TokenId, "jti-x", Exp);
        Feed.OldestRetained = long.MaxValue; // everything the edge would ask for has been trimmed
        Feed.Revoke(RevocationKinds.SessionId, "sess_gap", Exp);
        await Until(() => Task.FromResult(Feed.Snapshots > before), "snapshot after reset");
        Feed.OldestRetained = 0;
        await Until(async () => await Status(Mint("sess_gap")) == HttpStatusCode.Unauthorized, "revocation from the snapshot");
    }

    [Fact]
    public async Task Control_plane_down_keeps_serving_and_readiness_reports_degraded_when_stale()
    {
        var token = Mint("sess_down");
        Assert.Equal(HttpStatusCode.OK, await Status(token));
        Feed.Down = true;
        Edge.Time.Advance(TimeSpan.FromSeconds(61));
        await Until(async () =>
        {
            using var ready = await Edge.Admin.GetAsync("/readyz");
            return ready.StatusCode == HttpStatusCode.ServiceUnavailable && (await ready.Content.ReadAsStringAsync()).Contains("degraded");
        }, "degraded readiness");
        Assert.Equal(HttpStatusCode.OK, await Status(token));
        Assert.Equal(HttpStatusCode.OK, await Status(Mint("sess_new_while_down")));
    }

    [Fact]
    public async Task A_restarted_edge_restores_every_revocation_from_the_snapshot()
    {
        var token = Mint("sess_before_restart");
        Assert.Equal(HttpStatusCode.OK, await Status(token));
        Feed.Revoke(RevocationKinds.SessionId, "sess_before_restart", Exp);
        await Until(async () => await Status(token) == HttpStatusCode.Unauthorized, "revocation");

        // A fresh edge process (nothing in memory) on the same control plane.
        var config = EdgeTestHost.ControlPlaneOnlyConfig(Upstream.Url, Feed.Url, Feed.EdgeKey);
        await using var restarted = await EdgeTestHost.StartAsync(config);
        await restarted.WaitForSnapshotAsync();
        using var rejected = await restarted.GetAsync("/api/x", token);
        Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);
        using var clean = await restarted.GetAsync("/api/x", Mint("sess_clean_after_restart"));
        Assert.Equal(HttpStatusCode.OK, clean.StatusCode);
    }
}
