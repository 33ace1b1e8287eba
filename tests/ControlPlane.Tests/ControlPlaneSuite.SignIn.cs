using System.Net;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task Login_returns_a_token_pair_with_an_ES256_at_jwt_access_token()
    {
        var (id, email) = await F.CreateUserAsync("create");
        var r = await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword);
        var body = await r.BodyAsync(HttpStatusCode.OK);
        Assert.Equal("Bearer", (string?)body["token_type"]);
        Assert.Equal(900, (int)body["expires_in"]!);
        var refresh = (string)body["refresh_token"]!;
        Assert.True(refresh.Length > 43);
        Assert.True(r.Headers.CacheControl?.NoStore);
        Assert.DoesNotContain("\"d\"", await F.Http.GetStringAsync("/.well-known/jwks.json"), StringComparison.Ordinal);

        var jwt = Jwt((string)body["access_token"]!);
        Assert.Equal("ES256", jwt.Alg);
        Assert.Equal(ClaimNames.AccessTokenType, jwt.Typ);
        Assert.Contains((await JwksAsync()).Keys, k => k.Kid == jwt.Kid && k.Kty == "EC" && k.Crv == "P-256" && k.Alg == "ES256" && k.Use == "sig");
        Assert.Equal("http://localhost:5100", jwt.Issuer);
        Assert.Equal(["authio-api"], jwt.Audiences);
        Assert.Equal(id, jwt.Subject);
        Assert.Equal("read:* write:*", jwt.GetPayloadValue<string>(ClaimNames.Scope));
        Assert.Equal("create", jwt.GetPayloadValue<string>(ClaimNames.Role));
        Assert.StartsWith("org_", jwt.GetPayloadValue<string>(ClaimNames.Org));
        Assert.StartsWith("ses_", jwt.GetPayloadValue<string>(ClaimNames.SessionId));
        Assert.False(string.IsNullOrEmpty(jwt.Id));
        Assert.Equal(TimeSpan.FromMinutes(15), jwt.ValidTo - jwt.IssuedAt);
        Assert.True(jwt.TryGetPayloadValue<string[]>(ClaimNames.Teams, out _));
        Assert.True(await SignatureVerifiesAgainstJwksAsync(jwt.EncodedToken));

        // Only the hash of the refresh token is stored.
        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM refresh_tokens WHERE hash = @refresh", new { refresh }));
        Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM sessions WHERE user_id = @id", new { id }));
    }

    [SuiteFact]
    public async Task Unknown_email_and_wrong_password_get_the_same_401()
    {
        var (_, email) = await F.CreateUserAsync();
        var unknown = await (await F.LoginAsync("nobody@acme.test", "Wr0ng!pass")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        var wrong = await (await F.LoginAsync(email, "Wr0ng!pass")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.Equal((string?)unknown["detail"], (string?)wrong["detail"]);
        Assert.Equal((string?)unknown["title"], (string?)wrong["title"]);
    }

    [SuiteFact]
    public async Task Five_failures_lock_the_account_for_fifteen_minutes()
    {
        var (id, email) = await F.CreateUserAsync();
        for (var i = 0; i < 4; i++)
        {
            await (await F.LoginAsync(email, "Wr0ng!pass")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        }

        await (await F.LoginAsync(email, "Wr0ng!pass")).ProblemAsync((HttpStatusCode)423, ErrorCodes.AccountLocked);
        // Even the right password is refused while locked.
        await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).ProblemAsync((HttpStatusCode)423, ErrorCodes.AccountLocked);

        F.Time.Advance(TimeSpan.FromMinutes(14));
        await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).ProblemAsync((HttpStatusCode)423, ErrorCodes.AccountLocked);
        F.Time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);

        var admin = await F.AdminAsync();
        var events = await AuditEventsAsync(admin.Access, "userId=" + id);
        Assert.Contains("account_locked", events);
        // 5 bad passwords, then 2 attempts while locked.
        Assert.Equal(7, events.Count(e => e == "login_failed"));
        Assert.Contains("login_succeeded", events);
    }

    [SuiteFact]
    public async Task Failures_outside_the_window_do_not_lock()
    {
        var (_, email) = await F.CreateUserAsync();
        for (var i = 0; i < 4; i++)
        {
            await F.LoginAsync(email, "Wr0ng!pass");
        }

        F.Time.Advance(TimeSpan.FromMinutes(16));
        await (await F.LoginAsync(email, "Wr0ng!pass")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
    }

    [SuiteFact]
    public async Task Parallel_wrong_guesses_are_all_counted()
    {
        var (_, email) = await F.CreateUserAsync();
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => F.LoginAsync(email, "Wr0ng!pass")));
        await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).ProblemAsync((HttpStatusCode)423, ErrorCodes.AccountLocked);
    }

    [SuiteFact]
    public async Task A_password_longer_than_72_bytes_never_signs_in_by_its_prefix()
    {
        var admin = await F.AdminAsync();
        var exact = "Aa1!" + new string('x', 68);
        var email = $"u{Guid.NewGuid():N}@acme.test";
        await (await F.SendAsync(HttpMethod.Post, "/v1/users", admin.Access, new { email, password = exact, role = "explore" })).BodyAsync(HttpStatusCode.Created);
        await (await F.LoginAsync(email, exact + "anything")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await F.LoginOkAsync(email, exact);
    }
}
