using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// Credential stuffing told apart from password spraying, a risky sign-in stepped up (<c>Risk:StepUpAbove</c>), and the
/// risk check of a sign-in that completes with a second factor. Clients come from their own 127.1.x.y addresses.
/// </summary>
public abstract partial class ControlPlaneSuite
{
    private static int _riskNetworks;

    /// <summary>An address in a /24 no other call returned (for 250 calls), so each is a new network.</summary>
    private static string RiskAddress() => $"127.1.{Interlocked.Increment(ref _riskNetworks) % 250 + 1}.{Random.Shared.Next(1, 250)}";

    [SuiteFact]
    public async Task Credential_stuffing_many_emails_each_with_its_own_password_raises_one_alert_and_no_spraying_alert()
    {
        var admin = await F.AdminAsync();
        var known = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            known.Add((await F.CreateUserAsync("explore", admin)).Email);
        }
        // A leaked list: a few of this org's members among addresses nobody here has, each pair tried once.
        var pairs = known.Concat(Enumerable.Range(0, 21).Select(i => $"leaked{i}-{Guid.NewGuid():N}@example.test"))
            .Select((email, i) => (email, password: $"Leak3d!pass{i}")).ToList();
        var stuffer = RiskAddress();
        foreach (var (email, password) in pairs)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await SignInFromAsync(stuffer, "stuff/1.0", email, password));
        }

        var alert = Assert.Single(await SuspiciousAsync(admin, ""), e => (string?)e["ipAddress"] == stuffer);
        Assert.Equal("credential_stuffing", (string?)alert["details"]!["reasons"]);
        Assert.Equal("90", (string?)alert["details"]!["risk_score"]);
        Assert.Equal("10", (string?)alert["details"]!["distinct_accounts"]);
        Assert.Equal("6", (string?)alert["details"]!["unknown_accounts"]);
        Assert.Equal("10", (string?)alert["details"]!["distinct_passwords"]);
    }

    [SuiteFact]
    public async Task Above_StepUpAbove_a_risky_sign_in_needs_a_second_factor_and_without_one_is_refused()
    {
        var admin = await F.AdminAsync();
        var password = ControlPlaneFixture.DefaultPassword;
        var (plainId, plainEmail) = await F.CreateUserAsync("explore", admin);
        await F.LoginOkAsync(plainEmail, password); // 127.0.0.1 and the suite's user agent: the user's usual place
        var enrolled = await EnrolAsync(admin);
        var (app, http) = await F.StartAnotherInstanceAsync("--ControlPlane:Risk:StepUpAbove=50");
        try
        {
            // No second factor: the right password from a new network and device (score 60) is refused, and audited.
            var stranger = RiskAddress();
            using (var client = ClientFrom(stranger, "Stranger/1.0", http.BaseAddress))
            {
                var refused = await (await client.PostAsJsonAsync("/v1/auth/login", new { email = plainEmail, password }))
                    .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.SignInStepUpRequired);
                Assert.Null(refused["access_token"]);
            }
            var flagged = Assert.Single(await SuspiciousAsync(admin, "&userId=" + plainId));
            Assert.Equal("new_network,new_device", (string?)flagged["details"]!["reasons"]);
            Assert.Equal("refused", (string?)flagged["details"]!["action"]);
            Assert.Contains(await EventsAsync(admin, "event=login_failed&userId=" + plainId), e => (string?)e["details"]!["reason"] == "step_up_required");
            // From the usual place the same user signs in as always.
            Assert.Equal(HttpStatusCode.OK, await SignInFromAsync("127.0.0.1", "authio-tests/1.0", plainEmail, password, http.BaseAddress));

            // Without the setting the very same sign-in completes (flagged): the refusal was not remembered as the user's.
            Assert.Equal(HttpStatusCode.OK, await SignInFromAsync(stranger, "Stranger/1.0", plainEmail, password));
            var allowed = (await SuspiciousAsync(admin, "&userId=" + plainId)).Where(e => e["details"]!["action"] is null).ToList();
            Assert.Equal("new_network,new_device", (string?)Assert.Single(allowed)["details"]!["reasons"]);

            // With a second factor: a challenge, which only a valid code completes.
            var elsewhere = RiskAddress();
            using var risky = ClientFrom(elsewhere, "Stranger/2.0", http.BaseAddress);
            var first = await (await risky.PostAsJsonAsync("/v1/auth/login", new { email = enrolled.Email, password })).BodyAsync(HttpStatusCode.OK);
            Assert.True((bool)first["mfa_required"]!);
            Assert.Null(first["access_token"]);
            var mfaToken = (string)first["mfa_token"]!;
            await (await risky.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = mfaToken, method = "totp", code = WrongCode(enrolled.Secret) }))
                .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.MfaCodeInvalid);
            Assert.Empty(await SuspiciousAsync(admin, "&userId=" + enrolled.UserId));
            var tokens = await (await risky.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = mfaToken, method = "totp", code = TotpCode(enrolled.Secret, F.Time.GetUtcNow()) }))
                .BodyAsync(HttpStatusCode.OK);
            Assert.NotNull((string?)tokens["access_token"]);
            var stepped = Assert.Single(await SuspiciousAsync(admin, "&userId=" + enrolled.UserId));
            Assert.Equal("totp", (string?)stepped["details"]!["second_factor"]);
            Assert.Null(stepped["details"]!["action"]);
        }
        finally
        {
            http.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [SuiteFact]
    public async Task A_sign_in_completed_with_a_second_factor_is_checked_and_remembered_once()
    {
        var admin = await F.AdminAsync();
        var user = await EnrolAsync(admin); // signed in once with the password alone, from 127.0.0.1
        var history = () => F.InspectAsync<long>("SELECT COUNT(*) FROM sign_in_history WHERE user_id = @id", new { id = user.UserId });
        Assert.Equal(1, await history());

        // A new network and device, through TOTP: nothing at the password step, one alert when the sign-in completes.
        var away = RiskAddress();
        using (var client = ClientFrom(away, "Travel/1.0"))
        {
            var token = (string)(await (await client.PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = ControlPlaneFixture.DefaultPassword }))
                .BodyAsync(HttpStatusCode.OK))["mfa_token"]!;
            Assert.Empty(await SuspiciousAsync(admin, "&userId=" + user.UserId));
            Assert.Equal(1, await history());
            await (await client.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = token, method = "totp", code = TotpCode(user.Secret, F.Time.GetUtcNow()) }))
                .BodyAsync(HttpStatusCode.OK);
        }
        var flagged = Assert.Single(await SuspiciousAsync(admin, "&userId=" + user.UserId));
        Assert.Equal("new_network,new_device", (string?)flagged["details"]!["reasons"]);
        Assert.Equal("totp", (string?)flagged["details"]!["second_factor"]);
        Assert.Equal(away, (string?)flagged["ipAddress"]);
        Assert.NotNull((string?)flagged["sessionId"]);
        Assert.Equal(2, await history());

        // Remembered: the same place again is not flagged; another new one, through a recovery code, is (once more).
        F.Time.Advance(TimeSpan.FromSeconds(30));
        using (var client = ClientFrom(away, "Travel/1.0"))
        {
            var token = (string)(await (await client.PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = ControlPlaneFixture.DefaultPassword }))
                .BodyAsync(HttpStatusCode.OK))["mfa_token"]!;
            await (await client.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = token, method = "totp", code = TotpCode(user.Secret, F.Time.GetUtcNow()) }))
                .BodyAsync(HttpStatusCode.OK);
        }
        Assert.Single(await SuspiciousAsync(admin, "&userId=" + user.UserId));
        var further = RiskAddress();
        using (var client = ClientFrom(further, "Travel/2.0"))
        {
            var token = (string)(await (await client.PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = ControlPlaneFixture.DefaultPassword }))
                .BodyAsync(HttpStatusCode.OK))["mfa_token"]!;
            await (await client.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = token, method = "recovery_code", code = user.RecoveryCodes[0] }))
                .BodyAsync(HttpStatusCode.OK);
        }
        var alerts = await SuspiciousAsync(admin, "&userId=" + user.UserId);
        Assert.Equal(2, alerts.Count);
        Assert.Equal("recovery_code", (string?)alerts.Single(e => (string?)e["ipAddress"] == further)["details"]!["second_factor"]);
        Assert.Equal(3, await history());
    }

    private async Task<List<JsonNode>> EventsAsync(Tokens admin, string query) =>
        (await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?limit=200&" + query, admin.Access)).BodyAsync(HttpStatusCode.OK))["items"]!
            .AsArray().Select(e => e!).ToList();
}
