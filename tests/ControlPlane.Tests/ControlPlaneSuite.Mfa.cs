using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;

namespace Authio.ControlPlane.Tests;

/// <summary>TOTP, recovery codes, the two-step sign-in, the org MFA policy and step-up, as a client sees them.</summary>
public abstract partial class ControlPlaneSuite
{
    private sealed record Enrolled(string UserId, string Email, string Secret, List<string> RecoveryCodes, Tokens PasswordSession, string MfaAccess);

    [SuiteFact]
    public async Task A_user_enrols_totp_and_signs_in_in_two_steps_with_amr_acr_and_auth_time_in_the_tokens()
    {
        var admin = await F.AdminAsync();
        var (userId, email) = await F.CreateUserAsync("explore", admin);
        var session = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var pwdToken = Jwt(session.Access);
        Assert.Equal(["pwd"], pwdToken.GetPayloadValue<string[]>(ClaimNames.AuthenticationMethods));
        Assert.Equal(AuthenticationLevels.Password, pwdToken.GetPayloadValue<string>(ClaimNames.AuthenticationContext));
        Assert.InRange(pwdToken.GetPayloadValue<long>(ClaimNames.AuthTime), F.Time.GetUtcNow().ToUnixTimeSeconds() - 2, F.Time.GetUtcNow().ToUnixTimeSeconds());

        var enrol = await (await F.SendAsync(HttpMethod.Post, "/v1/users/me/mfa/totp", session.Access)).BodyAsync(HttpStatusCode.OK);
        var secret = (string)enrol["secret"]!;
        Assert.StartsWith("otpauth://totp/Authio:", (string)enrol["otpauth_uri"]!, StringComparison.Ordinal);
        Assert.Contains("secret=" + secret, (string)enrol["otpauth_uri"]!, StringComparison.Ordinal);
        Assert.Contains("<svg", (string)enrol["qr_svg"]!, StringComparison.Ordinal);
        Assert.StartsWith("data:image/png;base64,", (string)enrol["qr_png"]!, StringComparison.Ordinal);
        // The secret is sealed at rest: the stored value is not the secret in any encoding.
        var stored = await F.InspectAsync<string>("SELECT sealed_secret FROM mfa_totp WHERE user_id = @userId", new { userId });
        Assert.DoesNotContain(secret, stored, StringComparison.OrdinalIgnoreCase);

        // Not enrolled until a first valid code confirms it: sign-in is still one step.
        await (await F.SendAsync(HttpMethod.Post, "/v1/users/me/mfa/totp/confirm", session.Access, new { code = WrongCode(secret) }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.MfaCodeInvalid);
        await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var confirmCode = TotpCode(secret, F.Time.GetUtcNow());
        var confirmed = await (await F.SendAsync(HttpMethod.Post, "/v1/users/me/mfa/totp/confirm", session.Access, new { code = confirmCode })).BodyAsync(HttpStatusCode.OK);
        var recovery = confirmed["recovery_codes"]!.AsArray().Select(c => (string)c!).ToList();
        Assert.Equal(10, recovery.Distinct().Count());
        Assert.Equal(AuthenticationLevels.MultiFactor, Jwt((string)confirmed["access_token"]!).GetPayloadValue<string>(ClaimNames.AuthenticationContext));

        // Step one: the password answers with an mfa_token and the methods on offer, no tokens.
        var first = await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)first["mfa_required"]!);
        Assert.Null(first["access_token"]);
        Assert.Equal(["totp", "recovery_code"], first["methods"]!.AsArray().Select(m => (string)m!).ToList());
        var mfaToken = (string)first["mfa_token"]!;

        // The code that confirmed enrolment was used: replaying it is refused with its own code.
        await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = mfaToken, method = "totp", code = confirmCode }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.MfaCodeReplayed);
        F.Time.Advance(TimeSpan.FromSeconds(30));
        var code = TotpCode(secret, F.Time.GetUtcNow());
        var tokens = await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = mfaToken, method = "totp", code })).BodyAsync(HttpStatusCode.OK);
        var signedInAt = F.Time.GetUtcNow().ToUnixTimeSeconds();
        var jwt = Jwt((string)tokens["access_token"]!);
        Assert.Equal(["pwd", "otp", "mfa"], jwt.GetPayloadValue<string[]>(ClaimNames.AuthenticationMethods));
        Assert.Equal(AuthenticationLevels.MultiFactor, jwt.GetPayloadValue<string>(ClaimNames.AuthenticationContext));
        Assert.InRange(jwt.GetPayloadValue<long>(ClaimNames.AuthTime), signedInAt - 2, signedInAt);
        Assert.True(await SignatureVerifiesAgainstJwksAsync((string)tokens["access_token"]!));

        // Single use: the mfa_token is spent, and so is the code.
        await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = mfaToken, method = "totp", code }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.MfaTokenInvalid);
        var again = (string)(await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).BodyAsync(HttpStatusCode.OK))["mfa_token"]!;
        await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = again, method = "totp", code }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.MfaCodeReplayed);

        // Refresh keeps how and when the user signed in.
        F.Time.Advance(TimeSpan.FromMinutes(5));
        var refreshed = await (await RefreshAsync((string)tokens["refresh_token"]!)).BodyAsync(HttpStatusCode.OK);
        var later = Jwt((string)refreshed["access_token"]!);
        Assert.Equal(jwt.GetPayloadValue<long>(ClaimNames.AuthTime), later.GetPayloadValue<long>(ClaimNames.AuthTime));
        Assert.Equal(AuthenticationLevels.MultiFactor, later.GetPayloadValue<string>(ClaimNames.AuthenticationContext));
        Assert.Equal(["pwd", "otp", "mfa"], later.GetPayloadValue<string[]>(ClaimNames.AuthenticationMethods));

        var events = await AuditEventsAsync(admin.Access, "userId=" + userId);
        Assert.Contains("mfa.totp_enrolled", events);
        Assert.Contains("mfa.succeeded", events);
        Assert.Contains("mfa.failed", events);
    }

    [SuiteFact]
    public async Task Recovery_codes_work_once_are_audited_for_the_org_and_regeneration_invalidates_the_old_set()
    {
        var admin = await F.AdminAsync();
        var user = await EnrolAsync(admin);

        var first = await MfaTokenAsync(user.Email);
        var signedIn = await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = first, method = "recovery_code", code = user.RecoveryCodes[0].ToUpperInvariant() }))
            .BodyAsync(HttpStatusCode.OK);
        Assert.Equal(AuthenticationLevels.MultiFactor, Jwt((string)signedIn["access_token"]!).GetPayloadValue<string>(ClaimNames.AuthenticationContext));
        // The org's mods see it in their audit log.
        Assert.Contains("mfa.recovery_code_used", await AuditEventsAsync(admin.Access, "event=mfa.recovery_code_used&userId=" + user.UserId));

        var second = await MfaTokenAsync(user.Email);
        await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = second, method = "recovery_code", code = user.RecoveryCodes[0] }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.MfaRecoveryCodeUsed);

        var regenerated = await (await F.SendAsync(HttpMethod.Post, "/v1/users/me/mfa/recovery-codes", (string)signedIn["access_token"]!)).BodyAsync(HttpStatusCode.OK);
        var fresh = regenerated["recovery_codes"]!.AsArray().Select(c => (string)c!).ToList();
        Assert.Equal(10, fresh.Count);
        Assert.Empty(fresh.Intersect(user.RecoveryCodes));
        await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = second, method = "recovery_code", code = user.RecoveryCodes[1] }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.MfaCodeInvalid);
        await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = second, method = "recovery_code", code = fresh[1] })).BodyAsync(HttpStatusCode.OK);
        // Stored hashed: no code appears in the table.
        var hashes = await F.InspectAsync<string>("SELECT MIN(code_hash) FROM mfa_recovery_codes WHERE user_id = @u", new { u = user.UserId });
        Assert.DoesNotContain(fresh[2].Replace("-", "", StringComparison.Ordinal), hashes, StringComparison.OrdinalIgnoreCase);
    }

    [SuiteFact]
    public async Task An_mfa_token_expires_after_five_minutes_and_works_only_for_the_client_that_got_it()
    {
        var admin = await F.AdminAsync();
        var user = await EnrolAsync(admin);

        var expiring = await MfaTokenAsync(user.Email);
        F.Time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = expiring, method = "totp", code = TotpCode(user.Secret, F.Time.GetUtcNow()) }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.MfaTokenExpired);

        F.Time.Advance(TimeSpan.FromSeconds(30));
        var bound = await MfaTokenAsync(user.Email);
        using (var other = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/mfa"))
        {
            other.Headers.UserAgent.ParseAdd("someone-else/2.0");
            other.Content = JsonContent.Create(new { mfa_token = bound, method = "totp", code = TotpCode(user.Secret, F.Time.GetUtcNow()) });
            await (await F.Http.SendAsync(other)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.MfaTokenInvalid);
        }
        // The rightful client still completes it.
        await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = bound, method = "totp", code = TotpCode(user.Secret, F.Time.GetUtcNow()) }))
            .BodyAsync(HttpStatusCode.OK);
        await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = "nonsense", method = "totp", code = "123456" }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.MfaTokenInvalid);
    }

    [SuiteFact]
    public async Task Wrong_second_factors_count_toward_the_sign_in_lockout()
    {
        var admin = await F.AdminAsync();
        var user = await EnrolAsync(admin);
        var token = "";
        for (var i = 0; i < 4; i++)
        {
            // A right password half-way (a new mfa_token) does not reset the count.
            if (i % 2 == 0)
            {
                token = await MfaTokenAsync(user.Email);
            }

            await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = token, method = "totp", code = WrongCode(user.Secret) }))
                .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.MfaCodeInvalid);
        }

        await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = token, method = "totp", code = WrongCode(user.Secret) }))
            .ProblemAsync(HttpStatusCode.Locked, ErrorCodes.AccountLocked);
        // The password step is locked too, right password and all.
        await (await F.LoginAsync(user.Email, ControlPlaneFixture.DefaultPassword)).ProblemAsync(HttpStatusCode.Locked, ErrorCodes.AccountLocked);
        F.Time.Advance(TimeSpan.FromMinutes(16));
        await MfaTokenAsync(user.Email);
    }

    [SuiteFact]
    public async Task With_policy_required_for_mod_a_mod_without_mfa_reaches_only_enrolment_until_enrolled()
    {
        var admin = await F.AdminAsync();
        var (_, founderEmail) = await F.CreateUserAsync("mod", admin);
        var founder = await F.LoginOkAsync(founderEmail, ControlPlaneFixture.DefaultPassword);
        var orgB = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", founder.Access, new { name = "MFA " + Guid.NewGuid().ToString("N")[..6] }))
            .BodyAsync(HttpStatusCode.Created))["id"]!;
        var founderB = await F.LoginOkAsync(founderEmail, ControlPlaneFixture.DefaultPassword, orgB);
        var (_, modEmail) = await F.CreateUserAsync("mod", founderB);
        var (_, exploreEmail) = await F.CreateUserAsync("explore", founderB);

        await (await F.SendAsync(HttpMethod.Patch, "/v1/org", founderB.Access, new { mfa = "sometimes" })).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var org = await (await F.SendAsync(HttpMethod.Patch, "/v1/org", founderB.Access, new { mfa = "required_for_mod" })).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("required_for_mod", (string)org["mfa"]!);
        // The founder's own password-only session is now limited too.
        await (await F.SendAsync(HttpMethod.Get, "/v1/users", founderB.Access)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.MfaEnrollmentRequired);

        // A mod without a factor signs in to a session that can only enrol.
        var modSignIn = await (await F.LoginAsync(modEmail, ControlPlaneFixture.DefaultPassword)).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)modSignIn["mfa_enrollment_required"]!);
        var limited = (string)modSignIn["access_token"]!;
        await (await F.SendAsync(HttpMethod.Get, "/v1/users", limited)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.MfaEnrollmentRequired);
        await (await F.SendAsync(HttpMethod.Post, "/v1/teams", limited, new { name = "nope" })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.MfaEnrollmentRequired);
        await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", limited)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.MfaEnrollmentRequired);
        await (await F.SendAsync(HttpMethod.Patch, "/v1/org", limited, new { mfa = "off" })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.MfaEnrollmentRequired);
        var status = await (await F.SendAsync(HttpMethod.Get, "/v1/users/me/mfa", limited)).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)status["required"]!);

        // Members the policy does not cover are not limited.
        var explore = await F.LoginOkAsync(exploreEmail, ControlPlaneFixture.DefaultPassword);
        await (await F.SendAsync(HttpMethod.Get, "/v1/users", explore.Access)).BodyAsync(HttpStatusCode.OK);

        // Enrolling raises the session: the token from confirmation reaches admin actions.
        var secret = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/users/me/mfa/totp", limited)).BodyAsync(HttpStatusCode.OK))["secret"]!;
        var confirmed = await (await F.SendAsync(HttpMethod.Post, "/v1/users/me/mfa/totp/confirm", limited, new { code = TotpCode(secret, F.Time.GetUtcNow()) }))
            .BodyAsync(HttpStatusCode.OK);
        await (await F.SendAsync(HttpMethod.Get, "/v1/users", (string)confirmed["access_token"]!)).BodyAsync(HttpStatusCode.OK);
        await (await F.SendAsync(HttpMethod.Get, "/v1/users", limited)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.MfaEnrollmentRequired);
        // From now on this mod signs in with two steps.
        Assert.True((bool)(await (await F.LoginAsync(modEmail, ControlPlaneFixture.DefaultPassword)).BodyAsync(HttpStatusCode.OK))["mfa_required"]!);
    }

    [SuiteFact]
    public async Task A_sensitive_action_after_an_old_sign_in_gets_the_rfc9470_challenge_and_passes_after_step_up()
    {
        var admin = await F.AdminAsync();
        var mod = await EnrolAsync(admin, "mod");

        // Removing a factor always needs MFA: the session's password-only token is too weak, however recent.
        var weak = await F.SendAsync(HttpMethod.Delete, "/v1/users/me/mfa/totp", mod.PasswordSession.Access);
        await weak.ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.StepUpRequired);
        var weakChallenge = weak.Headers.WwwAuthenticate.ToString();
        Assert.Contains("Bearer error=\"insufficient_user_authentication\"", weakChallenge, StringComparison.Ordinal);
        Assert.Contains($"acr_values=\"{AuthenticationLevels.MultiFactor}\"", weakChallenge, StringComparison.Ordinal);
        Assert.DoesNotContain("max_age", weakChallenge, StringComparison.Ordinal);

        // Eleven minutes later the sign-in is too old for exporting the audit log (default 600 s).
        F.Time.Advance(TimeSpan.FromMinutes(11));
        var old = await F.SendAsync(HttpMethod.Get, "/v1/audit-events/export", mod.MfaAccess);
        await old.ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.StepUpRequired);
        var challenge = old.Headers.WwwAuthenticate.ToString();
        Assert.Contains("error=\"insufficient_user_authentication\"", challenge, StringComparison.Ordinal);
        Assert.Contains("error_description=\"", challenge, StringComparison.Ordinal);
        Assert.Contains("max_age=600", challenge, StringComparison.Ordinal);
        var before = Jwt(mod.MfaAccess).GetPayloadValue<long>(ClaimNames.AuthTime);

        // Step-up with a fresh code: a new access token with a new auth_time.
        var stepped = await (await F.SendAsync(HttpMethod.Post, "/v1/auth/step-up", mod.MfaAccess, new { method = "totp", code = TotpCode(mod.Secret, F.Time.GetUtcNow()) }))
            .BodyAsync(HttpStatusCode.OK);
        var raised = Jwt((string)stepped["access_token"]!);
        Assert.True(raised.GetPayloadValue<long>(ClaimNames.AuthTime) >= before + 600);
        Assert.Equal(AuthenticationLevels.MultiFactor, raised.GetPayloadValue<string>(ClaimNames.AuthenticationContext));
        Assert.Equal(Jwt(mod.MfaAccess).GetPayloadValue<string>(ClaimNames.SessionId), raised.GetPayloadValue<string>(ClaimNames.SessionId));
        var export = await F.SendAsync(HttpMethod.Get, "/v1/audit-events/export", (string)stepped["access_token"]!);
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        // The same code cannot step up twice.
        await (await F.SendAsync(HttpMethod.Post, "/v1/auth/step-up", mod.MfaAccess, new { method = "totp", code = TotpCode(mod.Secret, F.Time.GetUtcNow()) }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.MfaCodeReplayed);

        // Removal now passes, and is audited.
        (await F.SendAsync(HttpMethod.Delete, "/v1/users/me/mfa/totp", (string)stepped["access_token"]!)).EnsureSuccessStatusCode();
        var events = await AuditEventsAsync(admin.Access, "userId=" + mod.UserId);
        Assert.Contains("mfa.step_up", events);
        Assert.Contains("mfa.step_up_required", events);
        Assert.Contains("mfa.totp_removed", events);
        await F.LoginOkAsync(mod.Email, ControlPlaneFixture.DefaultPassword);
    }

    [SuiteFact]
    public async Task Step_up_raises_a_password_session_to_mfa_and_refresh_keeps_the_raised_context()
    {
        var admin = await F.AdminAsync();
        var (_, email) = await F.CreateUserAsync("create", admin);
        // Session B started before the user enrolled (in session A): it is a password-only session.
        var b = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var a = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var secret = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/users/me/mfa/totp", a.Access)).BodyAsync(HttpStatusCode.OK))["secret"]!;
        await (await F.SendAsync(HttpMethod.Post, "/v1/users/me/mfa/totp/confirm", a.Access, new { code = TotpCode(secret, F.Time.GetUtcNow()) })).BodyAsync(HttpStatusCode.OK);
        F.Time.Advance(TimeSpan.FromMinutes(2));
        var beforeStepUp = await (await RefreshAsync(b.Refresh)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(AuthenticationLevels.Password, Jwt((string)beforeStepUp["access_token"]!).GetPayloadValue<string>(ClaimNames.AuthenticationContext));

        var stepped = await (await F.SendAsync(HttpMethod.Post, "/v1/auth/step-up", b.Access, new { method = "totp", code = TotpCode(secret, F.Time.GetUtcNow()) }))
            .BodyAsync(HttpStatusCode.OK);
        Assert.Equal(AuthenticationLevels.MultiFactor, (string)stepped["acr"]!);
        var raised = Jwt((string)stepped["access_token"]!);
        Assert.Equal(["pwd", "otp", "mfa"], raised.GetPayloadValue<string[]>(ClaimNames.AuthenticationMethods));
        Assert.Equal(Jwt(b.Access).GetPayloadValue<string>(ClaimNames.SessionId), raised.GetPayloadValue<string>(ClaimNames.SessionId));
        // The session's refresh token is unchanged by step-up, and what it mints from now on carries the raised context.
        F.Time.Advance(TimeSpan.FromMinutes(1));
        var after = Jwt((string)(await (await RefreshAsync((string)beforeStepUp["refresh_token"]!)).BodyAsync(HttpStatusCode.OK))["access_token"]!);
        Assert.Equal(AuthenticationLevels.MultiFactor, after.GetPayloadValue<string>(ClaimNames.AuthenticationContext));
        Assert.Equal(raised.GetPayloadValue<long>(ClaimNames.AuthTime), after.GetPayloadValue<long>(ClaimNames.AuthTime));
    }

    [SuiteFact]
    public async Task Creating_an_admin_api_key_needs_a_recent_sign_in_but_an_ordinary_key_does_not()
    {
        var admin = await F.AdminAsync();
        var (_, email) = await F.CreateUserAsync("mod", admin);
        var mod = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        F.Time.Advance(TimeSpan.FromMinutes(11));
        var powerful = await F.SendAsync(HttpMethod.Post, "/v1/api-keys", mod.Access, new { name = "ops", scopes = new[] { "admin" }, environment = "test" });
        await powerful.ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.StepUpRequired);
        Assert.Contains("max_age=600", powerful.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", mod.Access, new { name = "reader", scopes = new[] { "read:leads" }, environment = "test" }))
            .BodyAsync(HttpStatusCode.Created);
        await (await F.SendAsync(HttpMethod.Put, "/v1/users/" + Jwt(admin.Access).Subject + "/role", mod.Access, new { role = "mod" }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.StepUpRequired);
        // A fresh password sign-in suffices while the org does not require MFA.
        var fresh = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", fresh.Access, new { name = "ops", scopes = new[] { "admin" }, environment = "test" }))
            .BodyAsync(HttpStatusCode.Created);
    }

    [SuiteFact]
    public async Task The_browser_sign_in_takes_the_same_two_steps_and_sets_the_refresh_cookie_only_after_the_second()
    {
        var admin = await F.AdminAsync();
        var user = await EnrolAsync(admin);
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = F.Http.BaseAddress };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("authio-tests/1.0");

        using var first = await http.PostAsJsonAsync("/v1/auth/cookie/login", new { email = user.Email, password = ControlPlaneFixture.DefaultPassword });
        var body = await first.BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)body["mfa_required"]!);
        Assert.Null(body["access_token"]);
        Assert.False(first.Headers.Contains("Set-Cookie"));

        using (var crossSite = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/cookie/mfa"))
        {
            crossSite.Headers.Add("Sec-Fetch-Site", "cross-site");
            crossSite.Content = JsonContent.Create(new { mfa_token = (string)body["mfa_token"]!, method = "totp", code = TotpCode(user.Secret, F.Time.GetUtcNow()) });
            await (await http.SendAsync(crossSite)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        }

        using var second = await http.PostAsJsonAsync("/v1/auth/cookie/mfa",
            new { mfa_token = (string)body["mfa_token"]!, method = "totp", code = TotpCode(user.Secret, F.Time.GetUtcNow()) });
        var tokens = await second.BodyAsync(HttpStatusCode.OK);
        Assert.Null(tokens["refresh_token"]);
        Assert.Equal(AuthenticationLevels.MultiFactor, Jwt((string)tokens["access_token"]!).GetPayloadValue<string>(ClaimNames.AuthenticationContext));
        Assert.Contains(second.Headers.GetValues("Set-Cookie"), c => c.StartsWith(RefreshCookieName + "=", StringComparison.Ordinal));
    }

    [SuiteFact]
    public async Task A_user_without_a_passkey_is_not_offered_one_as_second_factor()
    {
        var admin = await F.AdminAsync();
        var user = await EnrolAsync(admin);
        var first = await (await F.LoginAsync(user.Email, ControlPlaneFixture.DefaultPassword)).BodyAsync(HttpStatusCode.OK);
        Assert.DoesNotContain("passkey", first["methods"]!.AsArray().Select(m => (string)m!));
        await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new { mfa_token = (string)first["mfa_token"]!, method = "passkey", challenge_id = "x", assertion = new { } }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.MfaMethodUnavailable);
    }

    /// <summary>A new user of the admin's org with a confirmed authenticator; its first session is the password-only one it enrolled with.</summary>
    private async Task<Enrolled> EnrolAsync(Tokens admin, string role = "explore")
    {
        var (userId, email) = await F.CreateUserAsync(role, admin);
        var session = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var secret = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/users/me/mfa/totp", session.Access)).BodyAsync(HttpStatusCode.OK))["secret"]!;
        var confirmed = await (await F.SendAsync(HttpMethod.Post, "/v1/users/me/mfa/totp/confirm", session.Access, new { code = TotpCode(secret, F.Time.GetUtcNow()) }))
            .BodyAsync(HttpStatusCode.OK);
        // The next code is a new time step: nothing a test does next is a replay of the confirmation.
        F.Time.Advance(TimeSpan.FromSeconds(30));
        return new Enrolled(userId, email, secret, confirmed["recovery_codes"]!.AsArray().Select(c => (string)c!).ToList(), session, (string)confirmed["access_token"]!);
    }

    private async Task<string> MfaTokenAsync(string email)
    {
        var first = await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)first["mfa_required"]!, first.ToJsonString());
        return (string)first["mfa_token"]!;
    }

    /// <summary>RFC 6238 with SHA-1, 6 digits, 30 s steps, written out here so the test does not trust the server's library.</summary>
    private static string TotpCode(string base32Secret, DateTimeOffset at)
    {
        var counter = at.ToUnixTimeSeconds() / 30;
        var message = new byte[8];
        for (var i = 7; i >= 0; i--, counter >>= 8)
        {
            message[i] = (byte)(counter & 0xff);
        }

        var hash = HMACSHA1.HashData(Base32(base32Secret), message);
        var offset = hash[^1] & 0x0f;
        var binary = ((hash[offset] & 0x7f) << 24) | (hash[offset + 1] << 16) | (hash[offset + 2] << 8) | hash[offset + 3];
        return (binary % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A code valid for none of the three accepted steps around now.</summary>
    private string WrongCode(string secret)
    {
        var now = F.Time.GetUtcNow();
        var valid = new[] { -30, 0, 30 }.Select(s => TotpCode(secret, now.AddSeconds(s))).ToHashSet();
        return Enumerable.Range(0, 10).Select(i => $"{i}{i}{i}{i}{i}{i}").First(c => !valid.Contains(c));
    }

    private static byte[] Base32(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text.TrimEnd('=').ToUpperInvariant())
        {
            buffer = (buffer << 5) | alphabet.IndexOf(c, StringComparison.Ordinal);
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }
        return [.. bytes];
    }
}
