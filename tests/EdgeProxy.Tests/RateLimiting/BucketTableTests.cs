using System.Net;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Authio.EdgeProxy.Tests.RateLimiting;

/// <summary>Heap measurements must not see other test classes allocating in parallel.</summary>
[CollectionDefinition(nameof(HeapMeasurements), DisableParallelization = true)]
public sealed class HeapMeasurements;

/// <summary>The local limiter at unit level: GCRA arithmetic, key separation, bounded memory and the 0 B budget.</summary>
[Collection(nameof(HeapMeasurements))]
public sealed class BucketTableTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    private RateLimiter Limiter(int capacity = 4096, InMemoryOrgRateLimits? orgs = null, string? defaultLimit = null) =>
        new(new BucketTable(capacity), orgs ?? new InMemoryOrgRateLimits(), defaultLimit is null ? null : Parse(defaultLimit, "default"), 1, _time, null);

    private static RateLimitPolicy Parse(string text, string name = "route")
    {
        Assert.True(RateLimitPolicy.TryParse(name, text, out var limit, out var error), error);
        return limit;
    }

    private static EdgeIdentity Token(string subject, string? org = "org_1") => new()
    {
        Subject = subject, Org = org, Scopes = [], ScopesHeader = "", AuthType = "jwt",
    };

    private static EdgeIdentity ApiKey(string keyId, string? org = "org_1") => new()
    {
        Subject = null, KeyId = keyId, Org = org, Scopes = [], ScopesHeader = "", AuthType = "api_key",
    };

    [Fact]
    public void Gcra_admits_the_burst_then_one_per_interval()
    {
        var limiter = Limiter();
        var limit = Parse("10/1s burst 5");
        var caller = Token("u1");
        for (var i = 4; i >= 0; i--)
        {
            var allowed = limiter.Check(limit, caller, IPAddress.Loopback);
            Assert.True(allowed.Allowed);
            Assert.Equal(i, allowed.Remaining);
        }
        var refused = limiter.Check(limit, caller, IPAddress.Loopback);
        Assert.False(refused.Allowed);
        Assert.Equal(1, refused.RetryAfterSeconds);
        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(limiter.Check(limit, caller, IPAddress.Loopback).Allowed);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(limiter.Check(limit, caller, IPAddress.Loopback).Allowed);
        Assert.False(limiter.Check(limit, caller, IPAddress.Loopback).Allowed);
        // A long quiet period refills to the burst, never beyond.
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(5, Enumerable.Range(0, 20).Count(_ => limiter.Check(limit, caller, IPAddress.Loopback).Allowed));
    }

    [Fact]
    public void Retry_after_counts_whole_seconds_until_a_token()
    {
        var limiter = Limiter();
        var limit = Parse("1/10s");
        Assert.True(limiter.Check(limit, Token("u"), null).Allowed);
        var refused = limiter.Check(limit, Token("u"), null);
        Assert.Equal(10, refused.RetryAfterSeconds);
        _time.Advance(TimeSpan.FromSeconds(8.5));
        Assert.Equal(2, limiter.Check(limit, Token("u"), null).RetryAfterSeconds);
    }

    [Fact]
    public void Keys_follow_the_scope()
    {
        var limiter = Limiter();
        var perCredential = Parse("1/1m");
        Assert.True(limiter.Check(perCredential, Token("alice"), IPAddress.Loopback).Allowed);
        Assert.False(limiter.Check(perCredential, Token("alice", org: "other"), IPAddress.Loopback).Allowed);
        Assert.True(limiter.Check(perCredential, Token("bob"), IPAddress.Loopback).Allowed);
        Assert.True(limiter.Check(perCredential, ApiKey("alice"), IPAddress.Loopback).Allowed); // a key id is not a subject
        Assert.False(limiter.Check(perCredential, ApiKey("alice"), IPAddress.Loopback).Allowed);

        var perOrg = Parse("1/1m per org");
        Assert.True(limiter.Check(perOrg, Token("carol", "org_a"), IPAddress.Loopback).Allowed);
        Assert.False(limiter.Check(perOrg, ApiKey("k9", "org_a"), IPAddress.Loopback).Allowed);
        Assert.True(limiter.Check(perOrg, Token("carol", "org_b"), IPAddress.Loopback).Allowed);

        var perIp = Parse("1/1m per ip");
        Assert.True(limiter.Check(perIp, Token("dave"), IPAddress.Parse("10.0.0.1")).Allowed);
        Assert.False(limiter.Check(perIp, Token("erin"), IPAddress.Parse("10.0.0.1")).Allowed);
        Assert.False(limiter.Check(perIp, Token("erin"), IPAddress.Parse("::ffff:10.0.0.1")).Allowed);
        Assert.True(limiter.Check(perIp, Token("erin"), IPAddress.Parse("10.0.0.2")).Allowed);
        Assert.True(limiter.Check(perIp, null, IPAddress.Parse("2001:db8::1")).Allowed);

        // Anonymous callers are limited per IP whatever the scope says.
        Assert.True(limiter.Check(perCredential, null, IPAddress.Parse("10.0.0.9")).Allowed);
        Assert.False(limiter.Check(perCredential, null, IPAddress.Parse("10.0.0.9")).Allowed);

        // Two routes with the same text have separate buckets.
        var other = Parse("1/1m", "other-route");
        Assert.True(limiter.Check(other, Token("alice"), IPAddress.Loopback).Allowed);
    }

    [Fact]
    public void Precedence_is_route_then_org_then_default()
    {
        var orgs = new InMemoryOrgRateLimits();
        orgs.Set("org_gold", "1000/1s");
        var limiter = Limiter(orgs: orgs, defaultLimit: "10/1s");
        var route = Parse("5/1s");
        Assert.Same(route, limiter.Resolve(route, Token("u", "org_gold")));
        Assert.Equal(1000, limiter.Resolve(null, Token("u", "org_gold"))!.Count);
        Assert.Equal(10, limiter.Resolve(null, Token("u", "org_plain"))!.Count);
        Assert.Equal(10, limiter.Resolve(null, null)!.Count);
        Assert.Null(Limiter().Resolve(null, Token("u")));
    }

    [Fact]
    public void Without_redis_a_global_limit_is_this_edges_share()
    {
        var limiter = new RateLimiter(new BucketTable(4096), new InMemoryOrgRateLimits(), null, expectedEdges: 4, _time, leases: null);
        var limit = Parse("40/1s burst 20 global");
        var admitted = Enumerable.Range(0, 50).Count(_ => limiter.Check(limit, Token("g"), null).Allowed);
        Assert.Equal(5, admitted); // burst 20 / 4 edges
        var refused = limiter.Check(limit, Token("g"), null);
        Assert.Equal("\"route\";q=10;w=1", refused.Limit.PolicyHeader);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(limiter.Check(limit, Token("g"), null).Allowed); // 40/s / 4 = one per 100 ms
        Assert.False(limiter.Check(limit, Token("g"), null).Allowed);
    }

    [Fact]
    public void Memory_stays_bounded_under_a_million_distinct_keys()
    {
        var table = new BucketTable(65_536);
        var limiter = new RateLimiter(table, new InMemoryOrgRateLimits(), null, 1, _time, null);
        var limit = Parse("10/1s");
        var perIp = Parse("10/1s per ip");
        var random = new Random(6);
        var capacity = table.Capacity;
        // What the table keeps of evicted keys, watched directly rather than through the heap's size (the heap is
        // process-wide, and in a full test run other hosts' timers allocate meanwhile): a sample of each million's
        // identities must be collectable once later keys have taken their slots. Unbounded, the table would hold them all.
        var firstMillion = new List<WeakReference>();
        for (var i = 0; i < 1_000_000; i++)
        {
            var identity = Token("user-" + random.NextInt64().ToString("x"));
            limiter.Check(limit, identity, null);
            if (i % 1000 == 0)
            {
                firstMillion.Add(new WeakReference(identity.Subject));
            }
        }
        Span<byte> ip = stackalloc byte[4];
        for (var i = 0; i < 1_000_000; i++)
        {
            random.NextBytes(ip);
            limiter.Check(perIp, null, new IPAddress(ip));
        }
        var thirdMillion = new List<WeakReference>();
        for (var i = 0; i < 2_000_000; i++)
        {
            var identity = Token("user-" + random.NextInt64().ToString("x"));
            limiter.Check(limit, identity, null);
            if (i < 1_000_000 && i % 1000 == 0)
            {
                thirdMillion.Add(new WeakReference(identity.Subject));
            }
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.Equal(capacity, table.Capacity);
        Assert.True(table.Count() <= capacity);
        foreach (var (name, watched) in new[] { ("first", firstMillion), ("third", thirdMillion) })
        {
            var retained = watched.Count(w => w.IsAlive);
            Assert.True(retained <= watched.Count / 10, $"{retained} of {watched.Count} evicted keys of the {name} million are still held");
        }
        GC.KeepAlive(table);
    }

    [Fact]
    public void A_flood_of_new_keys_evicts_idle_buckets_before_a_limited_one()
    {
        var limiter = Limiter(capacity: 1024);
        var limit = Parse("5/1m");
        var abuser = Token("abuser");
        while (limiter.Check(limit, abuser, null).Allowed)
        {
        }
        for (var i = 0; i < 100_000; i++)
        {
            limiter.Check(limit, Token("drive-by-" + i), null);
        }
        Assert.False(limiter.Check(limit, abuser, null).Allowed);
    }

    [Fact]
    public void A_check_allocates_nothing()
    {
        var limiter = Limiter();
        var perKey = Parse("1000000/1s");
        var perIp = Parse("1000000/1s per ip");
        var perOrg = Parse("1000000/1s per org");
        var key = ApiKey("key_abc");
        var token = Token("user_abc");
        var client = IPAddress.Parse("203.0.113.7");
        var v6 = IPAddress.Parse("2001:db8::7");
        Assert.Equal(0, AllocatedBy(() => limiter.Check(perKey, key, client)));
        Assert.Equal(0, AllocatedBy(() => limiter.Check(perKey, token, client)));
        Assert.Equal(0, AllocatedBy(() => limiter.Check(perOrg, token, client)));
        Assert.Equal(0, AllocatedBy(() => limiter.Check(perIp, token, client)));
        Assert.Equal(0, AllocatedBy(() => limiter.Check(perIp, null, v6)));
        // Refusals are free too.
        var tight = Parse("1/1h");
        limiter.Check(tight, token, client);
        Assert.Equal(0, AllocatedBy(() => limiter.Check(tight, token, client)));
    }

    private static long AllocatedBy(Action action)
    {
        for (var i = 0; i < 200; i++)
        {
            action();
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            action();
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
