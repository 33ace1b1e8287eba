using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Revocation;

namespace Authio.EdgeProxy.Tests.Revocation;

/// <summary>A user's not-before is keyed by (org, user): logging out everywhere in one org leaves the user's other orgs alone.</summary>
public sealed class PerOrgNotBeforeTests
{
    private static EdgeIdentity Identity(string org, string sub = "user_1", long iat = 1000) => new()
    {
        Subject = sub, Org = org, TokenId = "jti-" + org, SessionId = "sid-" + org, Scopes = [], ScopesHeader = "", AuthType = "jwt",
        ExpiresAt = long.MaxValue, IssuedAt = iat,
    };

    [Fact]
    public void A_not_before_in_org_a_revokes_the_users_org_a_tokens_only()
    {
        var set = RevocationSet.Empty(1000, 0.001).With(
            [new RevokedId(RevocationKind.UserNotBefore, "user_1", 5000, NotBeforeUnix: 1500, Sequence: 1, Org: "org_a")], 1, 1000, 0.001);
        Assert.True(set.IsRevoked(Identity("org_a"), 1000));
        Assert.False(set.IsRevoked(Identity("org_b"), 1000));
        Assert.False(set.IsRevoked(Identity("org_a", sub: "user_2"), 1000));
        Assert.False(set.IsRevoked(Identity("org_a", iat: 1500), 1000)); // signed in again after it
        Assert.False(set.AnyOrgWideUserNotBefore);
    }

    [Fact]
    public void Org_and_user_are_not_confused_by_where_the_boundary_falls()
    {
        var set = RevocationSet.Empty(1000, 0.001).With(
            [new RevokedId(RevocationKind.UserNotBefore, "b:user", 5000, NotBeforeUnix: 1500, Sequence: 1, Org: "org_a")], 1, 1000, 0.001);
        Assert.True(set.IsRevoked(Identity("org_a", sub: "b:user"), 1000));
        Assert.False(set.IsRevoked(Identity("org_a:b", sub: "user"), 1000));
    }

    [Fact]
    public void A_not_before_without_an_org_from_an_older_control_plane_still_applies_to_every_org()
    {
        var set = RevocationSet.Empty(1000, 0.001).With(
            [new RevokedId(RevocationKind.UserNotBefore, "user_1", 5000, NotBeforeUnix: 1500, Sequence: 1)], 1, 1000, 0.001);
        Assert.True(set.AnyOrgWideUserNotBefore);
        Assert.True(set.IsRevoked(Identity("org_a"), 1000));
        Assert.True(set.IsRevoked(Identity("org_b"), 1000));
    }

    [Fact]
    public void The_per_org_check_allocates_nothing()
    {
        var set = RevocationSet.Empty(1000, 0.001).With(
            [new RevokedId(RevocationKind.UserNotBefore, "user_1", 5000, NotBeforeUnix: 1500, Sequence: 1, Org: "org_a")], 1, 1000, 0.001);
        var revoked = Identity("org_a");
        var clean = Identity("org_b");
        for (var i = 0; i < 100; i++)
        {
            set.Check(revoked, 1000);
            set.Check(clean, 1000);
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            set.Check(revoked, 1000);
            set.Check(clean, 1000);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
