using System.Net;
using System.Net.Http.Json;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

/// <summary>SQLite with a 30 s refresh-reuse grace window.</summary>
public sealed class GraceFixture : SqliteFixtureBase
{
    protected override IEnumerable<string> ExtraArguments => ["--ControlPlane:Tokens:RefreshReuseGrace=00:00:30"];
}

public sealed class GraceTests(GraceFixture f) : IClassFixture<GraceFixture>
{
    [Fact]
    public async Task A_rotated_refresh_token_is_accepted_within_the_grace_window_only()
    {
        var (_, email) = await f.CreateUserAsync();
        var t = await f.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        await (await f.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = t.Refresh })).BodyAsync(HttpStatusCode.OK);
        // A racing second tab presenting the same token a moment later still gets through.
        f.Time.Advance(TimeSpan.FromSeconds(10));
        var second = await (await f.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = t.Refresh })).BodyAsync(HttpStatusCode.OK);
        f.Time.Advance(TimeSpan.FromSeconds(25));
        await (await f.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = t.Refresh })).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        // Past the window it is reuse: the family is gone.
        await (await f.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = (string)second["refresh_token"]! }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
    }
}

/// <summary>SQLite started with no bootstrap settings: nobody exists, so nobody can sign in.</summary>
public sealed class NoBootstrapFixture : SqliteFixtureBase
{
    protected override IEnumerable<string> ExtraArguments =>
        ["--ControlPlane:Bootstrap:OrgName=", "--ControlPlane:Bootstrap:AdminEmail=", "--ControlPlane:Bootstrap:AdminPassword="];
}

public sealed class NoBootstrapTests(NoBootstrapFixture f) : IClassFixture<NoBootstrapFixture>
{
    [Fact]
    public async Task Without_bootstrap_settings_no_user_exists_and_sign_in_is_refused()
    {
        Assert.Equal(0L, await f.InspectAsync<long>("SELECT COUNT(*) FROM users"));
        await (await f.LoginAsync(ControlPlaneFixture.AdminEmail, ControlPlaneFixture.AdminPassword)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        // The service still serves its keys, so edges can start before the first user exists.
        await (await f.Http.GetAsync("/.well-known/jwks.json")).BodyAsync(HttpStatusCode.OK);
    }
}

/// <summary>SQLite with the production bcrypt floor (cost 10), to compare sign-in timings.</summary>
public sealed class RealCostFixture : SqliteFixtureBase
{
    protected override IEnumerable<string> ExtraArguments =>
        ["--ControlPlane:Passwords:TestOnlyInsecureBcryptCost=10", "--ControlPlane:Lockout:MaxFailures=100"];
}

public sealed class TimingTests(RealCostFixture f) : IClassFixture<RealCostFixture>
{
    [Fact]
    public async Task Unknown_email_costs_about_as_much_time_as_a_wrong_password()
    {
        var (_, email) = await f.CreateUserAsync();
        async Task<double> Ms(string who)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            await (await f.LoginAsync(who, "Wr0ng!pass")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
            return sw.Elapsed.TotalMilliseconds;
        }
        await Ms("warm-up@acme.test");
        // Interleaved, and the fastest of each: a busy machine slows both alike and never makes either faster.
        var unknown = double.MaxValue;
        var wrong = double.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            unknown = Math.Min(unknown, await Ms("nobody@acme.test"));
            wrong = Math.Min(wrong, await Ms(email));
        }
        // Both paths run one bcrypt verification; without the dummy hash "unknown" would be ~100x faster. Only that
        // direction is asserted: noise can make the unknown path look slower, never 5x faster.
        Assert.True(unknown >= wrong / 5, $"unknown email {unknown:F1} ms vs wrong password {wrong:F1} ms");
    }
}
