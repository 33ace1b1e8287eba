using System.Net;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Sync;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Authio.EdgeProxy.Tests.Sync;

/// <summary>Per-org rate limits arriving through the control plane's feed: changes, snapshots, and limits that do not parse.</summary>
public sealed class EdgeSyncOrgRateLimitTests : IAsyncLifetime
{
    private readonly RecordingUpstream _upstream = new();
    private readonly FakeFeed _feed = new(TestKey.Es256("cp-key-1"));
    private readonly EventIdLog _log = new(LogLevel.Warning);
    private EdgeTestHost _edge = null!;

    public async Task InitializeAsync()
    {
        await _upstream.StartAsync();
        await _feed.StartAsync();
        var config = EdgeTestHost.ControlPlaneOnlyConfig(_upstream.Url, _feed.Url, _feed.EdgeKey);
        config["Edge:ControlPlane:LongPollSeconds"] = "2";
        _edge = await EdgeTestHost.StartAsync(config, builder => builder.Logging.AddProvider(_log));
        await _edge.WaitForSnapshotAsync();
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        await _feed.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private InMemoryOrgRateLimits OrgLimits => _edge.Services.GetRequiredService<InMemoryOrgRateLimits>();

    private string? LimitOf(string org) => OrgLimits.TryGet(org, out var limit) ? limit.Text : null;

    private string Mint(string org, string sub = "user_1") => Jwt.Sign(_feed.Key, Jwt.Header(_feed.Key),
        Jwt.Claims(_edge.Time.GetUtcNow(), sub: sub, org: org, iss: FakeFeed.Issuer, aud: $"\"{FakeFeed.Audience}\""));

    private async Task<HttpStatusCode> Status(string token)
    {
        using var response = await _edge.GetAsync("/api/x", token);
        return response.StatusCode;
    }

    /// <summary>Polls a condition in real time (the rate limiter runs on the fake clock, which stays put).</summary>
    private static async Task Until(Func<bool> condition, string what)
    {
        for (var i = 0; i < 400; i++)
        {
            if (condition())
            {
                return;
            }
            await Task.Delay(25);
        }
        Assert.Fail("Timed out waiting for: " + what);
    }

    [Fact]
    public async Task A_limit_from_the_feed_applies_and_a_bad_one_keeps_the_last_good_limit_while_the_feed_goes_on()
    {
        var token = Mint("org_feed");
        _feed.SetOrgRateLimit("org_feed", "2/1m burst 2 per org");
        await Until(() => LimitOf("org_feed") == "2/1m burst 2 per org", "the org limit");
        Assert.Equal(HttpStatusCode.OK, await Status(token));
        Assert.Equal(HttpStatusCode.OK, await Status(Mint("org_feed", sub: "someone_else"))); // per org: one bucket
        using (var refused = await _edge.GetAsync("/api/x", token))
        {
            await ProblemAssert.Is(refused, 429, "rate_limit_exceeded");
            Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        }
        Assert.Equal(HttpStatusCode.OK, await Status(Mint("org_other"))); // no limit of its own, no default

        // A limit that does not parse: logged, the org keeps its last good limit (and its buckets), later changes still apply.
        _feed.SetOrgRateLimit("org_feed", "lots/1s");
        var after = _feed.Revoke(RevocationKinds.SessionId, "sess_after_bad", _edge.Time.GetUtcNow().AddHours(1).ToUnixTimeSeconds());
        var revocations = _edge.Services.GetRequiredService<RevocationStage>();
        await Until(() => revocations.Current.Sequence >= after, "the change after the bad limit");
        Assert.Equal("2/1m burst 2 per org", LimitOf("org_feed"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Status(token));
        await Until(() => _log.Entries.Any(w => w.EventId == 2206), "the refusal in the log");
        var warning = Assert.Single(_log.Entries, w => w.EventId == 2206);
        Assert.Contains("org_feed", warning.Message, StringComparison.Ordinal);
        Assert.Contains("lots/1s", warning.Message, StringComparison.Ordinal);

        // A new limit is a new bucket: admitted at once, without a restart.
        _feed.SetOrgRateLimit("org_feed", "100/1m per org");
        await Until(() => LimitOf("org_feed") == "100/1m per org", "the raised limit");
        using (var admitted = await _edge.GetAsync("/api/x", token))
        {
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
            Assert.Equal("\"org\";q=100;w=60", admitted.Headers.GetValues("RateLimit-Policy").Single());
        }

        // Cleared: no limit at all for the org (no edge default configured).
        _feed.SetOrgRateLimit("org_feed", null);
        await Until(() => LimitOf("org_feed") is null, "the cleared limit");
        using var unlimited = await _edge.GetAsync("/api/x", token);
        Assert.Equal(HttpStatusCode.OK, unlimited.StatusCode);
        Assert.False(unlimited.Headers.Contains("RateLimit-Policy"));
    }

    [Fact]
    public async Task A_snapshot_replaces_every_org_limit_and_keeps_the_last_good_one_for_a_bad_entry()
    {
        _feed.SetOrgRateLimit("org_a", "1/1m per org");
        _feed.SetOrgRateLimit("org_b", "2/1m per org");
        await Until(() => LimitOf("org_a") is not null && LimitOf("org_b") is not null, "both limits");
        OrgLimits.TryGet("org_b", out var orgB);

        var before = _feed.Snapshots;
        _feed.OldestRetained = long.MaxValue; // the edge must take a snapshot
        _feed.SetOrgRateLimit("org_a", null);
        _feed.SetOrgRateLimit("org_b", "2/1m per team");
        _feed.SetOrgRateLimit("org_c", "3/1m per org");
        // The refusal is logged just after the new map is swapped in: wait for both.
        await Until(() => _feed.Snapshots > before && LimitOf("org_c") is not null
            && _log.Entries.Any(w => w.EventId == 2206 && w.Message.Contains("org_b", StringComparison.Ordinal)), "the snapshot");
        _feed.OldestRetained = 0;

        Assert.Null(LimitOf("org_a"));
        Assert.True(OrgLimits.TryGet("org_b", out var keptB));
        Assert.Same(orgB, keptB); // the last good limit, buckets and all
        Assert.Equal("3/1m per org", LimitOf("org_c"));
    }
}
