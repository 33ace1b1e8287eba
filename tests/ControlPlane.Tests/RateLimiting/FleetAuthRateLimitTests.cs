using System.Net;
using System.Net.Http.Json;
using Authio.ControlPlane.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests.RateLimiting;

/// <summary>SQLite, a private Redis, a per-account sign-in limit of 3 a minute, addresses from <c>X-Forwarded-For</c>.</summary>
public sealed class FleetRateLimitFixture : SqliteFixtureBase
{
    public TestRedisServer Redis { get; private set; } = null!;

    protected override async Task<string[]?> StoreArgumentsAsync()
    {
        Redis = await TestRedisServer.StartAsync();
        return await base.StoreArgumentsAsync();
    }

    protected override IEnumerable<string> RateLimitArguments =>
    [
        "--FORWARDEDHEADERS_ENABLED=true",
        "--ControlPlane:RateLimits:SignIn:PerAccount=3/1m",
        "--ControlPlane:Lockout:MaxFailures=50",
    ];

    protected override IEnumerable<string> ExtraArguments => [$"--ControlPlane:Redis={Redis.ConnectionString}"];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>
/// Two control-plane instances on one database and one Redis: the credential limits hold for the fleet, whichever
/// instance answers; with Redis gone each instance limits alone, and nothing fails.
/// </summary>
public sealed class FleetAuthRateLimitTests(FleetRateLimitFixture f) : IClassFixture<FleetRateLimitFixture>
{
    private static int s_addresses;

    private static string NewAddress() => $"10.9.{Interlocked.Increment(ref s_addresses) >> 8 & 255}.{s_addresses & 255}";

    private static async Task<HttpResponseMessage> LoginAsync(HttpClient http, string email)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/login") { Content = JsonContent.Create(new { email, password = "Wr0ng!pass" }) };
        request.Headers.Add("X-Forwarded-For", NewAddress());
        return await http.SendAsync(request);
    }

    [RedisServerFact]
    public async Task The_per_account_sign_in_limit_holds_across_instances_and_falls_back_per_instance_without_redis()
    {
        var (other, otherHttp) = await f.StartAnotherInstanceAsync();
        try
        {
            // 3 a minute for one account, tried on both instances in turn: the fourth attempt is refused wherever it lands.
            var email = $"fleet{Guid.NewGuid():N}@acme.test";
            HttpClient[] instances = [f.Http, otherHttp, f.Http, otherHttp, f.Http];
            var statuses = new List<HttpStatusCode>();
            foreach (var http in instances)
            {
                using var response = await LoginAsync(http, email);
                statuses.Add(response.StatusCode);
            }
            Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
            Assert.True(f.Services.GetRequiredService<AuthRateLimiter>().FleetWide);

            // Redis gone: each instance decides alone (a fresh account: 3 per instance), and no request fails.
            f.Redis.Kill();
            var alone = $"alone{Guid.NewGuid():N}@acme.test";
            var onA = new List<HttpStatusCode>();
            var onB = new List<HttpStatusCode>();
            for (var i = 0; i < 4; i++)
            {
                using (var a = await LoginAsync(f.Http, alone))
                {
                    onA.Add(a.StatusCode);
                }
                using var b = await LoginAsync(otherHttp, alone);
                onB.Add(b.StatusCode);
            }
            HttpStatusCode[] perInstance = [HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests];
            Assert.Equal(perInstance, onA);
            Assert.Equal(perInstance, onB);
            Assert.False(f.Services.GetRequiredService<AuthRateLimiter>().FleetWide);
            Assert.Contains(f.Logs.Lines, l => l.Contains($"[{Hosting.LogEvents.RateLimitFleetUnavailable}]", StringComparison.Ordinal));
        }
        finally
        {
            otherHttp.Dispose();
            await other.StopAsync();
            await other.DisposeAsync();
        }
    }
}
