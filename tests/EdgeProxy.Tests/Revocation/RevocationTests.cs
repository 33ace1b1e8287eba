using System.Net;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.Revocation;

public sealed class BloomFilterTests
{
    [Fact]
    public void No_false_negatives_and_false_positives_near_the_target_rate()
    {
        var bloom = BloomFilter.Create(100_000, 0.001);
        var revoked = Enumerable.Range(0, 100_000).Select(i => "jti-" + i).ToArray();
        foreach (var id in revoked)
        {
            bloom.Add(RevocationKind.TokenId, id);
        }
        Assert.All(revoked, id => Assert.True(bloom.MightContain(RevocationKind.TokenId, id)));
        var falsePositives = Enumerable.Range(0, 200_000).Count(i => bloom.MightContain(RevocationKind.TokenId, "clean-" + i));
        Assert.InRange(falsePositives, 0, 400); // target 0.1 % of 200 000 = 200
        // The kind is part of the hash: a revoked jti says nothing about a session with the same string.
        Assert.InRange(revoked.Count(id => bloom.MightContain(RevocationKind.SessionId, id)), 0, 400);
    }

    [Fact]
    public void One_million_ids_fit_in_two_megabytes()
    {
        var bloom = BloomFilter.Create(1_000_000, 0.001);
        Assert.True(bloom.SizeBytes <= 2 * 1024 * 1024, $"{bloom.SizeBytes} bytes");
    }
}

public sealed class RevocationSetTests
{
    private static EdgeIdentity Identity(string? jti = null, string? sid = null, string? sub = "user_1", string? keyId = null, long iat = 1000) => new()
    {
        Subject = sub, TokenId = jti, SessionId = sid, KeyId = keyId, Scopes = [], ScopesHeader = "", AuthType = "jwt",
        ExpiresAt = long.MaxValue, IssuedAt = iat,
    };

    [Fact]
    public void Each_kind_is_matched_exactly_and_expires()
    {
        var set = RevocationSet.Empty(1000, 0.001).With(
        [
            new RevokedId(RevocationKind.TokenId, "jti-1", 2000),
            new RevokedId(RevocationKind.SessionId, "sid-1", 2000),
            new RevokedId(RevocationKind.ApiKey, "key-1", 2000),
            new RevokedId(RevocationKind.UserNotBefore, "user_9", 2000, NotBeforeUnix: 1500),
        ], sequence: 4, nowUnix: 1000, falsePositiveRate: 0.001);
        Assert.Equal(4, set.Sequence);
        Assert.True(set.IsRevoked(Identity(jti: "jti-1"), 1000));
        Assert.True(set.IsRevoked(Identity(sid: "sid-1"), 1000));
        Assert.True(set.IsRevoked(Identity(sub: null, keyId: "key-1"), 1000));
        Assert.True(set.IsRevoked(Identity(sub: "user_9", iat: 1400), 1000)); // issued before the user's not-before
        Assert.False(set.IsRevoked(Identity(sub: "user_9", iat: 1500), 1000)); // issued after: a fresh sign-in
        Assert.False(set.IsRevoked(Identity(jti: "jti-2", sid: "sid-2"), 1000));
        Assert.False(set.IsRevoked(Identity(jti: "jti-1"), 2000)); // the revocation outlived what it revoked
    }

    [Fact]
    public void Bloom_false_positives_never_reject_a_clean_credential()
    {
        // A deliberately tiny, saturated filter: nearly every probe is a (false) positive; the exact set decides.
        var revoked = Enumerable.Range(0, 64).Select(i => new RevokedId(RevocationKind.TokenId, "jti-" + i, long.MaxValue)).ToArray();
        var set = RevocationSet.Empty(64, 0.5).With(revoked, 1, 0, 0.5);
        var clean = Enumerable.Range(0, 1000).Select(i => Identity(jti: "clean-" + i)).ToArray();
        Assert.True(clean.Count(c => set.Bloom.MightContain(RevocationKind.TokenId, c.TokenId!)) > 100);
        Assert.DoesNotContain(clean, c => set.IsRevoked(c, 0));
        Assert.All(revoked, r => Assert.True(set.IsRevoked(Identity(jti: r.Value), 0)));
    }

    [Fact]
    public void The_default_filter_starts_small_and_grows_with_what_it_holds_at_its_false_positive_rate()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(1));
        var stage = new RevocationStage(time);
        // Probed at random places on every request: small enough for the CPU's nearer caches until revocations need more.
        Assert.InRange(stage.Current.Bloom.SizeBytes, 1, 16 * 1024);
        var exp = time.GetUtcNow().AddHours(1).ToUnixTimeSeconds();
        var sequence = 0L;
        foreach (var batch in Enumerable.Range(0, 50_000).Chunk(1_000))
        {
            stage.Apply(batch.Select(i => new RevokedId(RevocationKind.SessionId, "sid-" + i, exp)).ToArray(), ++sequence);
        }
        var set = stage.Current;
        Assert.True(set.Bloom.Capacity >= 50_000, $"capacity {set.Bloom.Capacity} for 50 000 ids");
        Assert.All(Enumerable.Range(0, 50_000).Where(i => i % 97 == 0), i => Assert.True(set.IsRevoked(Identity(sid: "sid-" + i), 0)));
        var clean = Enumerable.Range(0, 100_000).Select(i => Identity(sid: "clean-" + i)).ToArray();
        Assert.DoesNotContain(clean, c => set.IsRevoked(c, 0));
        Assert.InRange(clean.Count(c => set.Bloom.MightContain(RevocationKind.SessionId, c.SessionId!)), 0, 200); // target 0.1 % of 100 000
    }

    [Fact]
    public void A_clean_answer_is_remembered_for_its_snapshot_only()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(1));
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var stage = new RevocationStage(time);
        stage.Apply([new RevokedId(RevocationKind.SessionId, "sid-other", now + 60)], 1);
        var identity = Identity(jti: "jti-a", sid: "sid-a", sub: "user_a", iat: now);
        Assert.Equal(RevocationVerdict.Clean, stage.Check(identity));
        Assert.Equal(stage.Current.Generation, identity.CleanInRevocationGeneration);
        Assert.Equal(RevocationVerdict.Clean, stage.Check(identity));

        // Any new snapshot re-checks: its session, then its user's sign-out everywhere, each revoke it at once.
        stage.Apply([new RevokedId(RevocationKind.SessionId, "sid-a", now + 60)], 2);
        Assert.Equal(RevocationVerdict.Revoked, stage.Check(identity));
        var second = Identity(jti: "jti-b", sid: "sid-b", sub: "user_b", iat: now);
        Assert.Equal(RevocationVerdict.Clean, stage.Check(second));
        stage.Apply([new RevokedId(RevocationKind.UserNotBefore, "user_b", now + 60, NotBeforeUnix: now + 1)], 3);
        Assert.Equal(RevocationVerdict.Revoked, stage.Check(second));

        // Another edge's stage in the same process: what the first remembered means nothing to it.
        var other = new RevocationStage(time);
        other.Apply([new RevokedId(RevocationKind.TokenId, "jti-c", now + 60)], 1);
        var third = Identity(jti: "jti-c", sid: "sid-c", iat: now);
        Assert.Equal(RevocationVerdict.Clean, stage.Check(third));
        Assert.Equal(RevocationVerdict.Revoked, other.Check(third));

        // Revocations outlive nothing: once the session's entry lapses, the same identity is clean again.
        time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(RevocationVerdict.Clean, stage.Check(identity));
    }

    [Fact]
    public void A_filter_positive_is_settled_on_every_check_not_remembered()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(1));
        var stage = new RevocationStage(time, capacity: 64, falsePositiveRate: 0.5, redis: null);
        stage.Apply(Enumerable.Range(0, 64).Select(i => new RevokedId(RevocationKind.TokenId, "jti-" + i, long.MaxValue)).ToArray(), 1);
        var positive = Enumerable.Range(0, 1000).Select(i => Identity(jti: "clean-" + i)).First(c => stage.Current.Bloom.MightContain(RevocationKind.TokenId, c.TokenId!));
        Assert.Equal(RevocationVerdict.Clean, stage.Check(positive));
        Assert.Equal(0, positive.CleanInRevocationGeneration);
    }

    [Fact]
    public void Growing_past_capacity_rebuilds_and_keeps_every_live_entry()
    {
        var set = RevocationSet.Empty(64, 0.001);
        for (var i = 0; i < 300; i++)
        {
            set = set.With([new RevokedId(RevocationKind.SessionId, "sid-" + i, i < 100 ? 10 : 5000)], i + 1, nowUnix: 20, falsePositiveRate: 0.001);
        }
        Assert.True(set.Bloom.Capacity >= 200);
        Assert.All(Enumerable.Range(100, 200), i => Assert.True(set.IsRevoked(Identity(sid: "sid-" + i), 20)));
        Assert.True(set.Count <= 300);
    }
}

/// <summary>Revocations applied to the edge take effect on the very next request, cached tokens included.</summary>
public sealed class RevocationAtTheEdgeTests(EdgeWorld world) : IClassFixture<EdgeWorld>
{
    private RevocationStage Revocations => world.Edge.Services.GetRequiredService<RevocationStage>();

    private async Task<HttpResponseMessage> Call(string token) => await world.Edge.GetAsync("/api/r", token);

    [Fact]
    public async Task A_revoked_session_is_rejected_at_once_even_when_cached()
    {
        var exp = world.Now.AddMinutes(15).ToUnixTimeSeconds();
        var token = Jwt.Sign(world.Key, Jwt.Header(world.Key), Jwt.Claims(world.Now, sub: "user_s").Replace("\"sess_1\"", "\"sess_revoked\""));
        var other = Jwt.Sign(world.Key, Jwt.Header(world.Key), Jwt.Claims(world.Now, sub: "user_s").Replace("\"sess_1\"", "\"sess_other\""));
        using (var before = await Call(token))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }
        Revocations.Apply([new RevokedId(RevocationKind.SessionId, "sess_revoked", exp)], Revocations.Current.Sequence + 1);
        using (var after = await Call(token))
        {
            var problem = await ProblemAssert.Is(after, 401, "unauthorized");
            Assert.Contains("revoked", problem.GetProperty("detail").GetString());
        }
        using var unaffected = await Call(other);
        Assert.Equal(HttpStatusCode.OK, unaffected.StatusCode);
    }

    [Fact]
    public async Task Logout_all_rejects_tokens_issued_before_it_and_not_after()
    {
        var old = world.Mint(sub: "user_everywhere");
        using (var before = await Call(old))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }
        var cut = world.Now.ToUnixTimeSeconds() + 1;
        Revocations.Apply([new RevokedId(RevocationKind.UserNotBefore, "user_everywhere", cut + 3600, NotBeforeUnix: cut)], Revocations.Current.Sequence + 1);
        using (var rejected = await Call(old))
        {
            await ProblemAssert.Is(rejected, 401, "unauthorized");
        }
        world.Edge.Time.Advance(TimeSpan.FromSeconds(2));
        using var fresh = await Call(world.Mint(sub: "user_everywhere"));
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
    }
}

/// <summary>The set when the exact revocations live in Redis: memory keeps the filter and only the unmirrored tail.</summary>
public sealed class RemoteRevocationSetTests
{
    private static EdgeIdentity Identity(string? sid = null, string? sub = null, long iat = 1000) => new()
    {
        Subject = sub, SessionId = sid, Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = long.MaxValue, IssuedAt = iat,
    };

    [Fact]
    public void Filter_positives_outside_the_tail_need_confirmation_and_the_tail_shrinks_as_redis_catches_up()
    {
        var set = RevocationSet.Empty(1000, 0.001, remoteExact: true).With(
        [
            new RevokedId(RevocationKind.SessionId, "sid-old", 5000, Sequence: 3),
            new RevokedId(RevocationKind.SessionId, "sid-new", 5000, Sequence: 7),
            new RevokedId(RevocationKind.UserNotBefore, "user_9", 5000, NotBeforeUnix: 1500, Sequence: 8),
        ], sequence: 8, nowUnix: 1000, falsePositiveRate: 0.001, mirroredThrough: 5);
        Assert.Equal(2, set.Count); // seq 3 is in Redis already
        Assert.Equal(RevocationVerdict.Unconfirmed, set.Check(Identity(sid: "sid-old"), 1000));
        Assert.Equal(RevocationVerdict.Revoked, set.Check(Identity(sid: "sid-new"), 1000));
        Assert.Equal(RevocationVerdict.Revoked, set.Check(Identity(sub: "user_9", iat: 1400), 1000));
        Assert.Equal(RevocationVerdict.Clean, set.Check(Identity(sub: "user_9", iat: 1600), 1000)); // the tail has the newest not-before
        Assert.Equal(RevocationVerdict.Clean, set.Check(Identity(sid: "sid-never"), 1000));

        set = set.With([], sequence: 9, nowUnix: 1000, falsePositiveRate: 0.001, mirroredThrough: 9);
        Assert.Equal(0, set.Count);
        Assert.Equal(RevocationVerdict.Unconfirmed, set.Check(Identity(sid: "sid-new"), 1000));
        Assert.False(set.NeedsSnapshot);
    }

    [Fact]
    public void A_filter_filled_past_capacity_asks_for_a_snapshot_instead_of_rebuilding_from_a_partial_set()
    {
        var set = RevocationSet.Empty(64, 0.001, remoteExact: true);
        set = set.With(Enumerable.Range(0, 65).Select(i => new RevokedId(RevocationKind.TokenId, "j" + i, 5000, Sequence: i + 1)).ToArray(),
            sequence: 65, nowUnix: 1000, falsePositiveRate: 0.001, mirroredThrough: 65);
        Assert.True(set.NeedsSnapshot);
        Assert.Equal(RevocationVerdict.Unconfirmed, set.Check(new EdgeIdentity
        {
            Subject = null, TokenId = "j1", Scopes = [], ScopesHeader = "", AuthType = "jwt", ExpiresAt = long.MaxValue, IssuedAt = 1,
        }, 1000));
    }
}
