using Authio.EdgeProxy.RateLimiting;

namespace Authio.EdgeProxy.Tests.RateLimiting;

public sealed class OrgRateLimitsTests
{
    [Fact]
    public void Changes_swap_the_whole_map_and_an_unchanged_limit_keeps_its_buckets()
    {
        var orgs = new InMemoryOrgRateLimits();
        orgs.Set("org_a", "10/1s per org");
        Assert.True(orgs.TryGet("org_a", out var first));
        Assert.Equal("org", first.Name);

        // The same text again (e.g. from a snapshot) keeps the instance: the org's buckets are not reset.
        Assert.Empty(orgs.Replace([KeyValuePair.Create("org_a", (string?)" 10/1s  per org"), KeyValuePair.Create("org_b", (string?)"5/1m")]));
        Assert.True(orgs.TryGet("org_a", out var same));
        Assert.Same(first, same);
        Assert.Equal(2, orgs.Count);

        // A new text is a new limit; null or blank removes it; a snapshot without an org removes it too.
        Assert.True(orgs.TryApply("org_a", "20/1s per org", out _));
        Assert.True(orgs.TryGet("org_a", out var raised));
        Assert.NotSame(first, raised);
        Assert.True(orgs.TryApply("org_a", "  ", out _));
        Assert.False(orgs.TryGet("org_a", out _));
        Assert.Empty(orgs.Replace([]));
        Assert.False(orgs.TryGet("org_b", out _));
    }

    [Fact]
    public void A_bad_limit_is_refused_as_a_value_and_the_last_good_one_stays()
    {
        var orgs = new InMemoryOrgRateLimits();
        orgs.Set("org_a", "10/1s");
        Assert.False(orgs.TryApply("org_a", "10/1s per team", out var refusal));
        Assert.Equal("org_a", refusal.Value.Org);
        Assert.Contains("per", refusal.Value.Error, StringComparison.Ordinal);
        Assert.True(orgs.TryGet("org_a", out var kept));
        Assert.Equal("10/1s", kept.Text);

        var refused = orgs.Replace([KeyValuePair.Create("org_a", (string?)"nope"), KeyValuePair.Create("org_new", (string?)"nope")]);
        Assert.Equal(["org_a", "org_new"], refused.Select(r => r.Org));
        Assert.True(orgs.TryGet("org_a", out var stillKept));
        Assert.Same(kept, stillKept);
        Assert.False(orgs.TryGet("org_new", out _)); // nothing good to keep

        var error = Assert.Throws<ArgumentException>(() => orgs.Set("org_x", "lots"));
        Assert.Contains("org_x", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lookups_do_not_allocate()
    {
        var orgs = new InMemoryOrgRateLimits();
        orgs.Replace(Enumerable.Range(0, 1000).Select(i => KeyValuePair.Create("org_" + i, (string?)"10/1s")));
        var key = "org_" + 500;
        orgs.TryGet(key, out _);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var hits = 0;
        for (var i = 0; i < 10_000; i++)
        {
            hits += orgs.TryGet(key, out _) ? 1 : 0;
            hits += orgs.TryGet("org_missing", out _) ? 1 : 0;
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_000, hits);
    }
}
