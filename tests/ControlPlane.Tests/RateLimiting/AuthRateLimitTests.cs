using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Authio.Shared.Errors;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests.RateLimiting;

/// <summary>
/// SQLite with small limits, and <c>X-Forwarded-For</c> honoured as behind a reverse proxy
/// (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED</c>), so each request can come from an address of its own.
/// </summary>
public sealed class RateLimitFixture : SqliteFixtureBase
{
    protected override IEnumerable<string> RateLimitArguments =>
    [
        "--FORWARDEDHEADERS_ENABLED=true",
        "--ControlPlane:RateLimits:SignIn:PerIp=5/1m",
        "--ControlPlane:RateLimits:SignIn:PerAccount=3/1m",
        "--ControlPlane:RateLimits:Refresh:PerIp=5/1m",
        "--ControlPlane:RateLimits:Refresh:PerAccount=3/1m",
        "--ControlPlane:RateLimits:Password:PerIp=5/1m",
        "--ControlPlane:RateLimits:Password:PerAccount=2/1m",
        // Lockout stays out of the way so only the rate limits decide.
        "--ControlPlane:Lockout:MaxFailures=50",
    ];
}

public sealed class AuthRateLimitTests : IClassFixture<RateLimitFixture>
{
    private const string WrongPassword = "Wr0ng!pass";
    private static int s_addresses;
    private readonly RateLimitFixture _f;

    public AuthRateLimitTests(RateLimitFixture f)
    {
        _f = f;
        // Every test starts with every bucket full: the longest period configured is a minute.
        f.Time.Advance(TimeSpan.FromHours(1));
    }

    /// <summary>A client address no other request of the class used.</summary>
    private static string NewAddress()
    {
        var n = Interlocked.Increment(ref s_addresses);
        return $"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}";
    }

    private static string NewEmail() => $"r{Guid.NewGuid():N}@acme.test";

    private async Task<HttpResponseMessage> PostAsync(string path, object body, string address, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Forwarded-For", address);
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }

        return await _f.Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> LoginAsync(string email, string password, string address) =>
        PostAsync("/v1/auth/login", new { email, password }, address);

    private Task<HttpResponseMessage> RefreshAsync(string token, string address) =>
        PostAsync("/v1/auth/refresh", new { refresh_token = token }, address);

    private async Task<Tokens> LoginOkAsync(string email, string password)
    {
        var body = await (await LoginAsync(email, password, NewAddress())).BodyAsync(HttpStatusCode.OK);
        return new Tokens((string)body["access_token"]!, (string)body["refresh_token"]!);
    }

    private Task<Tokens> AdminAsync() => LoginOkAsync(ControlPlaneFixture.AdminEmail, ControlPlaneFixture.AdminPassword);

    /// <summary>Asserts a 429 <c>rate_limit_exceeded</c> with the given <c>Retry-After</c>; returns the problem body.</summary>
    private static async Task<JsonNode> AssertLimitedAsync(HttpResponseMessage r, int retryAfterSeconds)
    {
        var body = await r.ProblemAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimitExceeded);
        Assert.Equal(TimeSpan.FromSeconds(retryAfterSeconds), r.Headers.RetryAfter?.Delta);
        Assert.Contains($"{retryAfterSeconds} seconds", (string)body["detail"]!);
        return body;
    }

    [Fact]
    public async Task The_per_account_sign_in_limit_trips_across_different_addresses()
    {
        var email = NewEmail();
        for (var i = 0; i < 3; i++)
        {
            await (await LoginAsync(email, WrongPassword, NewAddress())).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        }
        // 3 a minute: one every 20 s once the burst of 3 is spent.
        await AssertLimitedAsync(await LoginAsync(email, WrongPassword, NewAddress()), 20);
        // The same spelling in another case is the same account.
        await AssertLimitedAsync(await LoginAsync(" " + email.ToUpperInvariant(), WrongPassword, NewAddress()), 20);
        // Another account is unaffected.
        await (await LoginAsync(NewEmail(), WrongPassword, NewAddress())).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
    }

    [Fact]
    public async Task The_per_address_sign_in_limit_trips_across_different_accounts()
    {
        var address = NewAddress();
        for (var i = 0; i < 5; i++)
        {
            await (await LoginAsync(NewEmail(), WrongPassword, address)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        }

        await AssertLimitedAsync(await LoginAsync(NewEmail(), WrongPassword, address), 12);
        // Even the right password of a real account from that address waits.
        await AssertLimitedAsync(await LoginAsync(ControlPlaneFixture.AdminEmail, ControlPlaneFixture.AdminPassword, address), 12);
        // Another address is unaffected.
        await (await LoginAsync(NewEmail(), WrongPassword, NewAddress())).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
    }

    [Fact]
    public async Task Buckets_refill_with_time_and_Retry_After_says_exactly_when()
    {
        var address = NewAddress();
        for (var i = 0; i < 5; i++)
        {
            await LoginAsync(NewEmail(), WrongPassword, address);
        }

        await AssertLimitedAsync(await LoginAsync(NewEmail(), WrongPassword, address), 12);

        _f.Time.Advance(TimeSpan.FromSeconds(11));
        await AssertLimitedAsync(await LoginAsync(NewEmail(), WrongPassword, address), 1);
        _f.Time.Advance(TimeSpan.FromSeconds(1));
        await (await LoginAsync(NewEmail(), WrongPassword, address)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        // One token came back, and it is spent.
        await AssertLimitedAsync(await LoginAsync(NewEmail(), WrongPassword, address), 12);

        // A quiet minute refills the whole burst.
        _f.Time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < 5; i++)
        {
            await (await LoginAsync(NewEmail(), WrongPassword, address)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        }

        await AssertLimitedAsync(await LoginAsync(NewEmail(), WrongPassword, address), 12);
    }

    [Fact]
    public async Task Known_and_unknown_accounts_are_limited_and_refused_alike()
    {
        var (_, known) = await _f.CreateUserAsync(admin: await AdminAsync());
        var unknown = NewEmail();
        var refusals = new List<(HttpResponseMessage Response, JsonNode Body)>();
        foreach (var email in new[] { known, unknown })
        {
            for (var i = 0; i < 3; i++)
            {
                await (await LoginAsync(email, WrongPassword, NewAddress())).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
            }

            var r = await LoginAsync(email, WrongPassword, NewAddress());
            refusals.Add((r, await AssertLimitedAsync(r, 20)));
        }
        var (knownResponse, knownBody) = refusals[0];
        var (unknownResponse, unknownBody) = refusals[1];
        Assert.Equal(knownResponse.Headers.RetryAfter, unknownResponse.Headers.RetryAfter);
        Assert.Equal(knownResponse.Headers.CacheControl?.ToString(), unknownResponse.Headers.CacheControl?.ToString());
        // Identical problem bodies but for the per-request trace id.
        foreach (var body in new[] { knownBody.AsObject(), unknownBody.AsObject() })
        {
            body.Remove("traceId");
        }

        Assert.Equal(knownBody.ToJsonString(), unknownBody.ToJsonString());
    }

    [Fact]
    public async Task A_refused_sign_in_never_checks_the_password_or_counts_towards_lockout()
    {
        var (id, email) = await _f.CreateUserAsync(admin: await AdminAsync());
        for (var i = 0; i < 3; i++)
        {
            await LoginAsync(email, WrongPassword, NewAddress());
        }

        Assert.Equal(3L, await _f.InspectAsync<long>("SELECT failed_count FROM login_failures WHERE email_key = @key",
            new { key = _f.Services.GetRequiredService<Authio.ControlPlane.Auth.LoginFailures>().KeyOf(email) }));

        // The right password is refused too: it is not even looked at.
        await AssertLimitedAsync(await LoginAsync(email, ControlPlaneFixture.DefaultPassword, NewAddress()), 20);
        for (var i = 0; i < 5; i++)
        {
            await AssertLimitedAsync(await LoginAsync(email, WrongPassword, NewAddress()), 20);
        }

        Assert.Equal(3L, await _f.InspectAsync<long>("SELECT failed_count FROM login_failures WHERE email_key = @key",
            new { key = _f.Services.GetRequiredService<Authio.ControlPlane.Auth.LoginFailures>().KeyOf(email) }));

        _f.Time.Advance(TimeSpan.FromSeconds(20));
        await (await LoginAsync(email, ControlPlaneFixture.DefaultPassword, NewAddress())).BodyAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Rate_limited_sign_ins_are_audited_once_per_period_per_account()
    {
        var admin = await AdminAsync();
        var (id, known) = await _f.CreateUserAsync(admin: admin);
        var unknown = NewEmail();
        foreach (var email in new[] { known, unknown })
        {
            for (var i = 0; i < 3; i++)
            {
                await LoginAsync(email, WrongPassword, NewAddress());
            }

            for (var i = 0; i < 6; i++)
            {
                await AssertLimitedAsync(await LoginAsync(email, WrongPassword, NewAddress()), 20);
            }
        }
        const string count = "SELECT COUNT(*) FROM audit_events WHERE event = 'login_failed' AND email = @email AND details LIKE '%rate_limited%'";
        Assert.Equal(1L, await _f.InspectAsync<long>(count, new { email = known }));
        Assert.Equal(1L, await _f.InspectAsync<long>(count, new { email = unknown }));

        // The known user's org sees it, like its other failed sign-ins (the unknown email goes to the internal chain).
        var page = await (await _f.SendAsync(HttpMethod.Get, $"/v1/audit-events?event=login_failed&userId={id}&limit=100", admin.Access))
            .BodyAsync(HttpStatusCode.OK);
        var limited = page["items"]!.AsArray().Where(e => e!["details"]?.ToJsonString().Contains("rate_limited") == true).ToList();
        Assert.Single(limited);
        Assert.Equal("failure", (string)limited[0]!["outcome"]!);

        // A period later a new refusal is recorded once more.
        _f.Time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < 3; i++)
        {
            await LoginAsync(unknown, WrongPassword, NewAddress());
        }

        for (var i = 0; i < 3; i++)
        {
            await AssertLimitedAsync(await LoginAsync(unknown, WrongPassword, NewAddress()), 20);
        }

        Assert.Equal(2L, await _f.InspectAsync<long>(count, new { email = unknown }));
    }

    [Fact]
    public async Task Refresh_is_limited_per_account_and_a_refused_refresh_leaves_the_token_usable()
    {
        var (_, email) = await _f.CreateUserAsync(admin: await AdminAsync());
        var refresh = (await LoginOkAsync(email, ControlPlaneFixture.DefaultPassword)).Refresh;
        for (var i = 0; i < 3; i++)
        {
            refresh = (string)(await (await RefreshAsync(refresh, NewAddress())).BodyAsync(HttpStatusCode.OK))["refresh_token"]!;
        }

        var refused = await RefreshAsync(refresh, NewAddress());
        await AssertLimitedAsync(refused, 20);
        Assert.Equal("no-store", refused.Headers.CacheControl?.ToString());

        // Another session of the same person shares the account's bucket.
        var other = (await LoginOkAsync(email, ControlPlaneFixture.DefaultPassword)).Refresh;
        await AssertLimitedAsync(await RefreshAsync(other, NewAddress()), 20);

        // Refused means untouched: the same token still rotates (no reuse detection, the session lives on).
        _f.Time.Advance(TimeSpan.FromSeconds(20));
        await (await RefreshAsync(refresh, NewAddress())).BodyAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Refresh_and_token_revocation_are_limited_per_address_in_separate_buckets()
    {
        var address = NewAddress();
        for (var i = 0; i < 5; i++)
        {
            await (await RefreshAsync($"org_x.{Guid.NewGuid():N}", address)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        }

        await AssertLimitedAsync(await RefreshAsync($"org_x.{Guid.NewGuid():N}", address), 12);

        // POST /oauth/revoke has per-address buckets of its own under the same rule.
        async Task<HttpResponseMessage> RevokeAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/revoke")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = "not-a-token" }),
            };
            request.Headers.Add("X-Forwarded-For", address);
            return await _f.Http.SendAsync(request);
        }
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await RevokeAsync()).StatusCode);
        }

        await AssertLimitedAsync(await RevokeAsync(), 12);
    }

    [Fact]
    public async Task Password_changes_are_limited_per_account_before_the_current_password_is_checked()
    {
        var (id, email) = await _f.CreateUserAsync(admin: await AdminAsync());
        var user = await LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var wrong = new { current_password = WrongPassword, new_password = "N3w!passw0rd" };
        for (var i = 0; i < 2; i++)
        {
            await (await PostAsync($"/v1/users/{id}/password", wrong, NewAddress(), user.Access)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        }
        // 2 a minute: one every 30 s. Even the right current password waits.
        var right = new { current_password = ControlPlaneFixture.DefaultPassword, new_password = "N3w!passw0rd" };
        var body = await AssertLimitedAsync(await PostAsync($"/v1/users/{id}/password", right, NewAddress(), user.Access), 30);
        Assert.Contains("password", (string)body["detail"]!);

        _f.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync($"/v1/users/{id}/password", right, NewAddress(), user.Access)).StatusCode);
    }

    [Fact]
    public async Task Password_changes_are_limited_per_address_across_accounts()
    {
        var admin = await AdminAsync();
        var address = NewAddress();
        var body = new { new_password = "N3w!passw0rd" };
        for (var i = 0; i < 5; i++)
        {
            await (await PostAsync($"/v1/users/usr_missing{i}/password", body, address, admin.Access)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        }

        await AssertLimitedAsync(await PostAsync("/v1/users/usr_missing9/password", body, address, admin.Access), 12);
    }

    [Fact]
    public async Task Refusals_never_log_the_email()
    {
        var email = NewEmail();
        for (var i = 0; i < 5; i++)
        {
            await LoginAsync(email, WrongPassword, NewAddress());
        }

        Assert.Contains(_f.Logs.Lines, l => l.Contains("sign-in per account", StringComparison.Ordinal));
        Assert.DoesNotContain(_f.Logs.Lines, l => l.Contains(email, StringComparison.OrdinalIgnoreCase));
    }
}
