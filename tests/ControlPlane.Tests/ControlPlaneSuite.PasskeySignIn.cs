using System.Net;
using System.Net.Http.Json;
using Authio.ControlPlane.Tests.Passkeys;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// Passkeys in the sign-in flows, over HTTP as a browser drives them: passkey alone (discoverable), passkey as the second
/// factor after a password, step-up with a passkey, and a cloned authenticator refused on the way in.
/// </summary>
public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task A_passkey_signs_in_alone_and_its_tokens_say_phishing_resistant()
    {
        var (userId, _, authenticator, _) = await UserWithPasskeyAsync();

        var begun = await (await F.Http.PostAsJsonAsync("/v1/auth/passkey/options", new { })).BodyAsync(HttpStatusCode.OK);
        var assertion = authenticator.Assert(begun["options"]!);
        var tokens = await (await F.Http.PostAsJsonAsync("/v1/auth/passkey/login",
            new { challenge_id = (string)begun["challenge_id"]!, assertion })).BodyAsync(HttpStatusCode.OK);

        var jwt = Jwt((string)tokens["access_token"]!);
        Assert.Equal(userId, jwt.Subject);
        Assert.Equal(["hwk", "mfa"], jwt.GetPayloadValue<string[]>(ClaimNames.AuthenticationMethods));
        Assert.Equal(AuthenticationLevels.PhishingResistant, jwt.GetPayloadValue<string>(ClaimNames.AuthenticationContext));
        var now = F.Time.GetUtcNow().ToUnixTimeSeconds();
        Assert.InRange(jwt.GetPayloadValue<long>(ClaimNames.AuthTime), now - 2, now);

        // The same challenge answered again (a replayed assertion) is refused and issues nothing.
        await (await F.Http.PostAsJsonAsync("/v1/auth/passkey/login", new { challenge_id = (string)begun["challenge_id"]!, assertion }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.PasskeyChallengeInvalid);
    }

    [SuiteFact]
    public async Task A_password_user_with_a_passkey_completes_sign_in_with_it_and_a_clone_is_refused()
    {
        var (_, email, authenticator) = await PasswordUserWithPasskeyAsync(backupEligible: true);
        using var clone = authenticator.Clone();

        var first = await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)first["mfa_required"]!);
        Assert.Contains("passkey", first["methods"]!.AsArray().Select(m => (string)m!));
        var mfaToken = (string)first["mfa_token"]!;
        var begun = await (await F.Http.PostAsJsonAsync("/v1/auth/mfa/passkey/options", new { mfa_token = mfaToken })).BodyAsync(HttpStatusCode.OK);
        var tokens = await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new
        {
            mfa_token = mfaToken, method = "passkey", challenge_id = (string)begun["challenge_id"]!, assertion = authenticator.Assert(begun["options"]!),
        })).BodyAsync(HttpStatusCode.OK);
        var jwt = Jwt((string)tokens["access_token"]!);
        Assert.Equal(["pwd", "swk", "mfa"], jwt.GetPayloadValue<string[]>(ClaimNames.AuthenticationMethods)); // synced passkey
        Assert.Equal(AuthenticationLevels.PhishingResistant, jwt.GetPayloadValue<string>(ClaimNames.AuthenticationContext));

        // A copy of the authenticator, still at the old counter: refused as a clone, and no tokens.
        var second = (string)(await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).BodyAsync(HttpStatusCode.OK))["mfa_token"]!;
        var again = await (await F.Http.PostAsJsonAsync("/v1/auth/mfa/passkey/options", new { mfa_token = second })).BodyAsync(HttpStatusCode.OK);
        var refused = await F.Http.PostAsJsonAsync("/v1/auth/mfa", new
        {
            mfa_token = second, method = "passkey", challenge_id = (string)again["challenge_id"]!, assertion = clone.Assert(again["options"]!),
        });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.DoesNotContain("access_token", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [SuiteFact]
    public async Task Step_up_with_a_passkey_raises_an_old_password_session_for_a_sensitive_action()
    {
        var (_, email, authenticator) = await PasswordUserWithPasskeyAsync(backupEligible: false, role: "mod");
        var first = await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).BodyAsync(HttpStatusCode.OK);
        var mfaToken = (string)first["mfa_token"]!;
        var begun = await (await F.Http.PostAsJsonAsync("/v1/auth/mfa/passkey/options", new { mfa_token = mfaToken })).BodyAsync(HttpStatusCode.OK);
        var signedIn = await (await F.Http.PostAsJsonAsync("/v1/auth/mfa", new
        {
            mfa_token = mfaToken, method = "passkey", challenge_id = (string)begun["challenge_id"]!, assertion = authenticator.Assert(begun["options"]!),
        })).BodyAsync(HttpStatusCode.OK);
        var access = (string)signedIn["access_token"]!;

        // Eleven minutes later the sign-in is too old for rotating the org's signing key: RFC 9470's challenge.
        F.Time.Advance(TimeSpan.FromMinutes(11));
        var refreshed = await (await RefreshAsync((string)signedIn["refresh_token"]!)).BodyAsync(HttpStatusCode.OK);
        access = (string)refreshed["access_token"]!;
        var tooOld = await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", access);
        await tooOld.ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.StepUpRequired);
        Assert.Contains("insufficient_user_authentication", tooOld.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        var raised = await StepUpWithPasskeyAsync(access, authenticator);
        var jwt = Jwt(raised);
        Assert.Equal(AuthenticationLevels.PhishingResistant, jwt.GetPayloadValue<string>(ClaimNames.AuthenticationContext));
        Assert.Equal(F.Time.GetUtcNow().ToUnixTimeSeconds(), jwt.GetPayloadValue<long>(ClaimNames.AuthTime), 2.0);
        Assert.True((await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", raised)).IsSuccessStatusCode);
    }

    /// <summary>Steps the session up with one of its user's passkeys: the raised access token.</summary>
    private async Task<string> StepUpWithPasskeyAsync(string access, SoftwareAuthenticator authenticator)
    {
        var options = await (await F.SendAsync(HttpMethod.Post, "/v1/auth/step-up/passkey/options", access)).BodyAsync(HttpStatusCode.OK);
        var raised = await (await F.SendAsync(HttpMethod.Post, "/v1/auth/step-up", access, new
        {
            method = "passkey", challenge_id = (string)options["challenge_id"]!, assertion = authenticator.Assert(options["options"]!),
        })).BodyAsync(HttpStatusCode.OK);
        return (string)raised["access_token"]!;
    }

    /// <summary>A new user of the admin's org with a password and one registered passkey (so sign-in takes two steps).</summary>
    private async Task<(string UserId, string Email, SoftwareAuthenticator Authenticator)> PasswordUserWithPasskeyAsync(bool backupEligible, string role = "explore")
    {
        var (userId, email) = await F.CreateUserAsync(role, await F.AdminAsync());
        var tokens = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var authenticator = new SoftwareAuthenticator(PasskeyOrigin, backupEligible);
        await RegisterPasskeyAsync(tokens.Access, authenticator, "phone");
        return (userId, email, authenticator);
    }
}
