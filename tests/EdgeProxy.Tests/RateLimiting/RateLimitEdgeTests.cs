using System.Net;
using System.Net.Sockets;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.RateLimiting;

/// <summary>Routes with limits of every scope in front of a real edge; each test uses its own callers.</summary>
public class RateLimitWorld : EdgeWorld
{
    protected override void Customize(Dictionary<string, string?> config)
    {
        config["Edge:RateLimits:Default"] = "3/1m per subject";
        Route(config, "limited", "/limited/{**rest}", "50/1s burst 50");
        Route(config, "perorg", "/perorg/{**rest}", "4/1m per org");
        Route(config, "perip", "/perip/{**rest}", "2/1m per ip");
        Route(config, "anon", "/anon/{**rest}", "2/1m");
        config["ReverseProxy:Routes:anon:Metadata:Authio.Anonymous"] = "true";
        Route(config, "adminonly", "/adminonly/{**rest}", "3/1m");
        config["ReverseProxy:Routes:adminonly:Metadata:Authio.Scopes"] = "admin:things";
    }

    private static void Route(Dictionary<string, string?> config, string id, string path, string limit)
    {
        config[$"ReverseProxy:Routes:{id}:ClusterId"] = "up";
        config[$"ReverseProxy:Routes:{id}:Match:Path"] = path;
        config[$"ReverseProxy:Routes:{id}:Metadata:Authio.RateLimit"] = limit;
    }

    /// <summary>A client whose connections come from <paramref name="localAddress"/> (any 127.0.0.0/8 address is loopback on Linux).</summary>
    public HttpClient ClientFrom(string localAddress) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancel) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancel);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = Edge.Client.BaseAddress };
}

public sealed class RateLimitEdgeTests(RateLimitWorld world) : IClassFixture<RateLimitWorld>
{
    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : "";

    private static async Task<int> Status(Task<HttpResponseMessage> request)
    {
        using var response = await request;
        return (int)response.StatusCode;
    }

    private static Task<HttpResponseMessage> Get(HttpClient client, string path, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }
        return client.SendAsync(request);
    }

    [Fact]
    public async Task Per_org_limits_are_shared_by_everyone_in_the_org()
    {
        var before = world.Upstream.Received.Count;
        var statuses = new List<int>();
        foreach (var sub in new[] { "po-1", "po-2", "po-3", "po-4", "po-5", "po-1" })
        {
            statuses.Add(await Status(world.Edge.GetAsync("/perorg/x", world.Mint(sub: sub, org: "org_shared"))));
        }
        Assert.Equal([200, 200, 200, 200, 429, 429], statuses);
        Assert.Equal(before + 4, world.Upstream.Received.Count);
        Assert.Equal(200, await Status(world.Edge.GetAsync("/perorg/x", world.Mint(sub: "po-1", org: "org_other"))));
    }

    [Fact]
    public async Task Per_ip_limits_separate_client_addresses()
    {
        using var a = world.ClientFrom("127.0.0.2");
        using var b = world.ClientFrom("127.0.0.3");
        var token = world.Mint(sub: "ip-user");
        Assert.Equal(200, await Status(Get(a, "/perip/x", token)));
        Assert.Equal(200, await Status(Get(a, "/perip/x", world.Mint(sub: "ip-user-2"))));
        using (var refused = await Get(a, "/perip/x", token))
        {
            await ProblemAssert.Is(refused, 429, "rate_limit_exceeded");
        }
        Assert.Equal(200, await Status(Get(b, "/perip/x", token)));
    }

    [Fact]
    public async Task Anonymous_routes_are_limited_per_ip()
    {
        using var a = world.ClientFrom("127.0.0.4");
        using var b = world.ClientFrom("127.0.0.5");
        var before = world.Upstream.Received.Count;
        Assert.Equal(200, await Status(Get(a, "/anon/x", null)));
        using (var second = await Get(a, "/anon/x", null))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            Assert.Equal("\"anon\";q=2;w=60", Header(second, "RateLimit-Policy"));
            Assert.Equal("\"anon\";r=0;t=60", Header(second, "RateLimit"));
        }
        using (var refused = await Get(a, "/anon/x", null))
        {
            await ProblemAssert.Is(refused, 429, "rate_limit_exceeded");
            Assert.Equal("30", Header(refused, "Retry-After"));
            Assert.Equal("\"anon\";r=0;t=30", Header(refused, "RateLimit"));
        }
        Assert.Equal(200, await Status(Get(b, "/anon/x", null)));
        Assert.Equal(before + 3, world.Upstream.Received.Count);
        // Public routes without a limit stay unlimited... except for the Default, which applies to every route.
        using var open = await Get(a, "/public/x", null);
        Assert.Equal("\"default\";q=3;w=60", Header(open, "RateLimit-Policy"));
    }

    [Fact]
    public async Task Org_settings_apply_before_the_default_and_after_the_route()
    {
        world.Edge.Services.GetRequiredService<InMemoryOrgRateLimits>().Set("org_gold", "6/1m per subject");
        var gold = world.Mint(sub: "gold-user", org: "org_gold");
        var plain = world.Mint(sub: "plain-user", org: "org_plain");
        var goldStatuses = new List<int>();
        var plainStatuses = new List<int>();
        for (var i = 0; i < 7; i++)
        {
            goldStatuses.Add(await Status(world.Edge.GetAsync("/api/x", gold)));
            plainStatuses.Add(await Status(world.Edge.GetAsync("/api/x", plain)));
        }
        Assert.Equal(6, goldStatuses.Count(s => s == 200));
        Assert.Equal(3, plainStatuses.Count(s => s == 200)); // Edge:RateLimits:Default
        using var response = await world.Edge.GetAsync("/perorg/x", gold);
        Assert.Equal("\"perorg\";q=4;w=60", Header(response, "RateLimit-Policy"));
    }

    [Fact]
    public async Task Failed_authentications_carry_the_ip_failure_headers_then_get_429_without_spending_the_callers_quota()
    {
        using var client = world.ClientFrom("127.0.0.6");
        var before = world.Upstream.Received.Count;
        // "2/1m per ip": one request per 30 s, burst 2. Bad tokens spend this address's failure bucket of the route limit.
        using (var first = await Get(client, "/perip/x", "not.a.token1"))
        {
            await ProblemAssert.Is(first, 401, "unauthorized");
            Assert.Equal("\"perip\";q=2;w=60", Header(first, "RateLimit-Policy"));
            Assert.Equal("\"perip\";r=1;t=30", Header(first, "RateLimit"));
        }
        using (var second = await Get(client, "/perip/x", null))
        {
            await ProblemAssert.Is(second, 401, "unauthorized");
            Assert.Equal("\"perip\";q=2;w=60", Header(second, "RateLimit-Policy"));
            Assert.Equal("\"perip\";r=0;t=60", Header(second, "RateLimit"));
        }
        for (var i = 0; i < 3; i++)
        {
            using var refused = await Get(client, "/perip/x", "not.a.token" + i);
            await ProblemAssert.Is(refused, 429, "rate_limit_exceeded");
            Assert.Equal("\"perip\";q=2;w=60", Header(refused, "RateLimit-Policy"));
            Assert.Equal("\"perip\";r=0;t=30", Header(refused, "RateLimit"));
            Assert.Equal("30", Header(refused, "Retry-After"));
        }
        // The address's own quota on the route is untouched: a valid credential from it still gets both requests.
        using (var admitted = await Get(client, "/perip/x", world.Mint(sub: "after-failures")))
        {
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
            Assert.Equal("\"perip\";r=1;t=30", Header(admitted, "RateLimit"));
        }
        Assert.Equal(before + 1, world.Upstream.Received.Count);
    }

    [Fact]
    public async Task Forbidden_on_a_limited_route_carries_the_ip_failure_headers()
    {
        using var client = world.ClientFrom("127.0.0.7");
        var reader = world.Mint(sub: "reader-403", scope: "read:things");
        // "3/1m": one request per 20 s, burst 3; 403 and 401 from one address share its failure bucket.
        using (var forbidden = await Get(client, "/adminonly/x", reader))
        {
            await ProblemAssert.Is(forbidden, 403, "forbidden");
            Assert.Equal("\"adminonly\";q=3;w=60", Header(forbidden, "RateLimit-Policy"));
            Assert.Equal("\"adminonly\";r=2;t=20", Header(forbidden, "RateLimit"));
        }
        using (var unauthorized = await Get(client, "/adminonly/x", null))
        {
            await ProblemAssert.Is(unauthorized, 401, "unauthorized");
            Assert.Equal("\"adminonly\";q=3;w=60", Header(unauthorized, "RateLimit-Policy"));
            Assert.Equal("\"adminonly\";r=1;t=40", Header(unauthorized, "RateLimit"));
        }
        using (var forbidden = await Get(client, "/adminonly/x", reader))
        {
            await ProblemAssert.Is(forbidden, 403, "forbidden");
            Assert.Equal("\"adminonly\";r=0;t=60", Header(forbidden, "RateLimit"));
        }
        using (var refused = await Get(client, "/adminonly/x", reader))
        {
            await ProblemAssert.Is(refused, 429, "rate_limit_exceeded");
            Assert.Equal("\"adminonly\";q=3;w=60", Header(refused, "RateLimit-Policy"));
            Assert.Equal("\"adminonly\";r=0;t=20", Header(refused, "RateLimit"));
            Assert.Equal("20", Header(refused, "Retry-After"));
        }
        // Another address has its own failure bucket; an admin from this one is not refused by it.
        using var other = world.ClientFrom("127.0.0.8");
        using (var elsewhere = await Get(other, "/adminonly/x", reader))
        {
            await ProblemAssert.Is(elsewhere, 403, "forbidden");
            Assert.Equal("\"adminonly\";r=2;t=20", Header(elsewhere, "RateLimit"));
        }
        Assert.Equal(200, await Status(Get(client, "/adminonly/x", world.Mint(sub: "admin-403", scope: "admin:things"))));
    }

    [Fact]
    public async Task Failures_on_a_route_without_a_limit_carry_no_rate_limit_headers()
    {
        await using var plain = await EdgeTestHost.StartAsync(EdgeTestHost.DefaultConfig(world.Upstream.Url, world.Jwks.JwksUrl));
        using var response = await plain.GetAsync("/api/x", "not.a.token");
        await ProblemAssert.Is(response, 401, "unauthorized");
        Assert.Equal("", Header(response, "RateLimit-Policy"));
        Assert.Equal("", Header(response, "RateLimit"));
    }
}

/// <summary>The acceptance scenario, in fake time so it is exact and fast.</summary>
public sealed class RateLimitAccuracyTests : IAsyncLifetime
{
    private readonly RateLimitWorld _world = new();

    public Task InitializeAsync() => _world.InitializeAsync();

    public Task DisposeAsync() => _world.DisposeAsync();

    [Fact]
    public async Task A_key_driven_at_four_times_its_limit_gets_exactly_its_limit()
    {
        var token = _world.Mint(sub: "accuracy");
        var before = _world.Upstream.Received.Count;
        var admitted = 0;
        for (var i = 0; i < 1000; i++)
        {
            using var response = await _world.Edge.GetAsync("/limited/x", token);
            Assert.Equal("\"limited\";q=50;w=1", string.Join(",", response.Headers.GetValues("RateLimit-Policy")));
            var rateLimit = string.Join(",", response.Headers.GetValues("RateLimit"));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                admitted++;
                Assert.StartsWith("\"limited\";r=", rateLimit);
                if (i == 0)
                {
                    Assert.Equal("\"limited\";r=49;t=1", rateLimit);
                }
            }
            else
            {
                await ProblemAssert.Is(response, 429, "rate_limit_exceeded");
                // 200/s against 50/s: a token is never more than 20 ms away, so Retry-After is its minimum.
                Assert.Equal("1", string.Join(",", response.Headers.GetValues("Retry-After")));
                Assert.Equal("\"limited\";r=0;t=1", rateLimit);
            }
            _world.Edge.Time.Advance(TimeSpan.FromMilliseconds(5));
        }
        const int expected = 50 * 5 + 50;
        Assert.InRange(admitted, expected * 0.95, expected * 1.05);
        Assert.Equal(before + admitted, _world.Upstream.Received.Count);
    }
}
