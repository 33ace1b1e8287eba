using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Mfa;
using Authio.ControlPlane.Passkeys;
using Authio.ControlPlane.Tests.Passkeys;
using Authio.Shared.Errors;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// Passkeys: registration over HTTP with a software authenticator, and the assertion ceremonies the sign-in flows call
/// (<see cref="IPasskeyCeremonies"/>, resolved from the running control plane), including what an attacker tries:
/// clones, replays, foreign origins, someone else's passkey, and malformed payloads.
/// </summary>
public abstract partial class ControlPlaneSuite
{
    private const string PasskeysPath = "/v1/users/me/mfa/passkeys";

    private IPasskeyCeremonies Ceremonies => F.Services.GetRequiredService<IPasskeyCeremonies>();

    private string PasskeyOrigin => F.Services.GetRequiredService<PasskeyOptions>().Origins[0];

    /// <summary>A new user of the admin's org, signed in, with one registered passkey.</summary>
    private async Task<(string UserId, Tokens Tokens, SoftwareAuthenticator Authenticator, string PasskeyId)> UserWithPasskeyAsync(bool backupEligible = false)
    {
        var (userId, email) = await F.CreateUserAsync();
        var tokens = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var authenticator = new SoftwareAuthenticator(PasskeyOrigin, backupEligible);
        var created = await RegisterPasskeyAsync(tokens.Access, authenticator, "laptop");
        return (userId, tokens, authenticator, (string)created["id"]!);
    }

    private async Task<JsonNode> RegisterPasskeyAsync(string access, SoftwareAuthenticator authenticator, string name)
    {
        var begun = await (await F.SendAsync(HttpMethod.Post, PasskeysPath + "/options", access)).BodyAsync(HttpStatusCode.OK);
        var attestation = authenticator.Register(begun["options"]!);
        return await (await F.SendAsync(HttpMethod.Post, PasskeysPath, access,
            new { challenge_id = (string)begun["challenge_id"]!, name, attestation })).BodyAsync(HttpStatusCode.Created);
    }

    private static T Ok<T>(Result<T> result) where T : class
    {
        Assert.True(result.Error is null, $"refused: {result.Error?.Code} {result.Error?.Detail}");
        return result.Value!;
    }

    private static void Refused<T>(Result<T> result, int status, string code) where T : class
    {
        Assert.True(result.Error is not null, "expected a refusal with " + code);
        Assert.Equal((code, status), (result.Error!.Code, result.Error.Status));
    }

    private static JsonElement Element(JsonNode node) => JsonDocument.Parse(node.ToJsonString()).RootElement.Clone();

    [SuiteFact]
    public async Task Passkey_is_registered_listed_without_key_material_and_removed()
    {
        var admin = await F.AdminAsync();
        var (userId, email) = await F.CreateUserAsync(admin: admin);
        var tokens = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        using var authenticator = new SoftwareAuthenticator(PasskeyOrigin);

        // The options ask for a discoverable credential and no attestation, for this relying party and user.
        var begun = await (await F.SendAsync(HttpMethod.Post, PasskeysPath + "/options", tokens.Access)).BodyAsync(HttpStatusCode.OK);
        var options = begun["options"]!;
        Assert.StartsWith("pkc_", (string)begun["challenge_id"]!);
        Assert.Equal("localhost", (string?)options["rp"]!["id"]);
        Assert.Equal("required", (string?)options["authenticatorSelection"]!["residentKey"]);
        Assert.Equal("none", (string?)options["attestation"]);
        Assert.Equal(userId, Encoding.UTF8.GetString(Base64Url.DecodeFromChars((string)options["user"]!["id"]!)));
        Assert.Equal(email, (string?)options["user"]!["name"]);
        Assert.True(Base64Url.DecodeFromChars((string)options["challenge"]!).Length >= 16);

        var created = await (await F.SendAsync(HttpMethod.Post, PasskeysPath, tokens.Access,
            new { challenge_id = (string)begun["challenge_id"]!, name = " YubiKey ", attestation = authenticator.Register(options) })).BodyAsync(HttpStatusCode.Created);
        var id = (string)created["id"]!;
        Assert.StartsWith("pk_", id);
        Assert.Equal("YubiKey", (string?)created["name"]);
        Assert.False((bool)created["backup_eligible"]!);
        Assert.NotNull(created["created_at"]);
        Assert.Null(created["last_used_at"]);

        // Listed with what a person needs to recognise it, never the key or credential id.
        var listText = await (await F.SendAsync(HttpMethod.Get, PasskeysPath, tokens.Access)).Content.ReadAsStringAsync();
        var list = JsonNode.Parse(listText)!.AsArray();
        Assert.Equal(id, (string?)Assert.Single(list)!["id"]);
        Assert.Equal(0, (long)list[0]!["sign_count"]!);
        Assert.DoesNotContain(authenticator.CredentialIdText, listText, StringComparison.Ordinal);
        Assert.DoesNotContain("public_key", listText, StringComparison.Ordinal);
        Assert.True(await Ceremonies.HasPasskeyAsync(userId, default));
        // Someone else's list does not show it.
        Assert.Empty((await (await F.SendAsync(HttpMethod.Get, PasskeysPath, admin.Access)).BodyAsync(HttpStatusCode.OK)).AsArray());

        // The same authenticator cannot register the same credential twice (excluded, and refused if it tries).
        var again = await (await F.SendAsync(HttpMethod.Post, PasskeysPath + "/options", tokens.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal(authenticator.CredentialIdText, (string?)again["options"]!["excludeCredentials"]![0]!["id"]);
        await (await F.SendAsync(HttpMethod.Post, PasskeysPath, tokens.Access,
            new { challenge_id = (string)again["challenge_id"]!, name = "dup", attestation = authenticator.Register(again["options"]!) }))
            .ProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);

        // Removing a second factor needs a recent MFA sign-in: a password session is asked to step up (RFC 9470).
        await (await F.SendAsync(HttpMethod.Delete, $"{PasskeysPath}/{id}", tokens.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.StepUpRequired);
        var raised = await StepUpWithPasskeyAsync(tokens.Access, authenticator);
        // Another user (stepped up with a passkey of their own) cannot remove it; its owner can, once.
        // (Another ordinary user: a passkey on the suite's admin would make every later admin sign-in take two steps.)
        var other = await UserWithPasskeyAsync();
        using (other.Authenticator)
        {
            var otherRaised = await StepUpWithPasskeyAsync(other.Tokens.Access, other.Authenticator);
            await (await F.SendAsync(HttpMethod.Delete, $"{PasskeysPath}/{id}", otherRaised)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        }
        Assert.Equal(HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Delete, $"{PasskeysPath}/{id}", raised)).StatusCode);
        await (await F.SendAsync(HttpMethod.Delete, $"{PasskeysPath}/{id}", raised)).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        Assert.Empty((await (await F.SendAsync(HttpMethod.Get, PasskeysPath, tokens.Access)).BodyAsync(HttpStatusCode.OK)).AsArray());
        Assert.False(await Ceremonies.HasPasskeyAsync(userId, default));

        var events = await AuditEventsAsync(admin.Access, "userId=" + userId);
        Assert.Contains(PasskeyAuditEvents.Registered, events);
        Assert.Contains(PasskeyAuditEvents.Removed, events);
    }

    [SuiteFact]
    public async Task Registration_challenge_is_single_use_bound_to_its_user_and_expires()
    {
        var (_, email) = await F.CreateUserAsync();
        var tokens = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var other = await F.AdminAsync();
        using var authenticator = new SoftwareAuthenticator(PasskeyOrigin);

        async Task<(string Id, JsonNode Options)> BeginAsync(string access)
        {
            var b = await (await F.SendAsync(HttpMethod.Post, PasskeysPath + "/options", access)).BodyAsync(HttpStatusCode.OK);
            return ((string)b["challenge_id"]!, b["options"]!);
        }

        // Another user's challenge is not this user's to answer (and is spent by the try).
        var (othersId, othersOptions) = await BeginAsync(other.Access);
        await (await F.SendAsync(HttpMethod.Post, PasskeysPath, tokens.Access, new { challenge_id = othersId, attestation = authenticator.Register(othersOptions) }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.PasskeyChallengeInvalid);

        // Expired after 5 minutes.
        var (expiredId, expiredOptions) = await BeginAsync(tokens.Access);
        F.Time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        await (await F.SendAsync(HttpMethod.Post, PasskeysPath, tokens.Access, new { challenge_id = expiredId, attestation = authenticator.Register(expiredOptions) }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.PasskeyChallengeInvalid);

        // Wrong origin or relying party: refused, and the challenge is spent.
        var (id, options) = await BeginAsync(tokens.Access);
        authenticator.Origin = "https://evil.example";
        await (await F.SendAsync(HttpMethod.Post, PasskeysPath, tokens.Access, new { challenge_id = id, attestation = authenticator.Register(options) }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.PasskeyInvalid);
        authenticator.Origin = PasskeyOrigin;
        await (await F.SendAsync(HttpMethod.Post, PasskeysPath, tokens.Access, new { challenge_id = id, attestation = authenticator.Register(options) }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.PasskeyChallengeInvalid);
        (id, options) = await BeginAsync(tokens.Access);
        authenticator.RpIdOverride = "evil.example";
        await (await F.SendAsync(HttpMethod.Post, PasskeysPath, tokens.Access, new { challenge_id = id, attestation = authenticator.Register(options) }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.PasskeyInvalid);
        authenticator.RpIdOverride = null;

        // A good answer works once; the same answer again is refused.
        (id, options) = await BeginAsync(tokens.Access);
        var attestation = authenticator.Register(options);
        await (await F.SendAsync(HttpMethod.Post, PasskeysPath, tokens.Access, new { challenge_id = id, attestation })).BodyAsync(HttpStatusCode.Created);
        await (await F.SendAsync(HttpMethod.Post, PasskeysPath, tokens.Access, new { challenge_id = id, attestation }))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.PasskeyChallengeInvalid);
        Assert.Single((await (await F.SendAsync(HttpMethod.Get, PasskeysPath, tokens.Access)).BodyAsync(HttpStatusCode.OK)).AsArray());
    }

    [SuiteFact]
    public async Task Passkey_signs_in_discoverable_and_as_a_second_factor_with_hwk_or_swk()
    {
        var admin = await F.AdminAsync();
        var (userId, tokens, authenticator, passkeyId) = await UserWithPasskeyAsync();
        using var _ = authenticator;

        // Discoverable: no allow-list, user verification required; the credential says who it is.
        var discoverable = Ok(await Ceremonies.BeginAssertionAsync(null, default));
        Assert.Null(discoverable.Options["allowCredentials"]?.AsArray().FirstOrDefault());
        Assert.Equal("required", (string?)discoverable.Options["userVerification"]);
        Assert.Equal("localhost", (string?)discoverable.Options["rpId"]);
        var signedIn = Ok(await Ceremonies.CompleteAssertionAsync(discoverable.ChallengeId, null, Element(authenticator.Assert(discoverable.Options)), default));
        Assert.Equal(new PasskeyAssertion(userId, passkeyId, "hwk"), signedIn);

        // Second factor: the user's credentials are the allow-list.
        var bound = Ok(await Ceremonies.BeginAssertionAsync(userId, default));
        Assert.Equal(authenticator.CredentialIdText, (string?)Assert.Single(bound.Options["allowCredentials"]!.AsArray())!["id"]);
        var second = Ok(await Ceremonies.CompleteAssertionAsync(bound.ChallengeId, userId, Element(authenticator.Assert(bound.Options)), default));
        Assert.Equal(new PasskeyAssertion(userId, passkeyId, "hwk"), second);

        var listed = Assert.Single((await (await F.SendAsync(HttpMethod.Get, PasskeysPath, tokens.Access)).BodyAsync(HttpStatusCode.OK)).AsArray())!;
        Assert.Equal(2, (long)listed["sign_count"]!);
        Assert.NotNull(listed["last_used_at"]);
        Assert.Contains(PasskeyAuditEvents.Verified, await AuditEventsAsync(admin.Access, "userId=" + userId));

        // A synced passkey (backup eligible) is "something you have" in software: swk.
        var (syncedUser, _, synced, syncedId) = await UserWithPasskeyAsync(backupEligible: true);
        using var __ = synced;
        var begun = Ok(await Ceremonies.BeginAssertionAsync(null, default));
        Assert.Equal(new PasskeyAssertion(syncedUser, syncedId, "swk"),
            Ok(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, null, Element(synced.Assert(begun.Options)), default)));

        // An authenticator without a counter (always 0) is accepted while it stays at 0.
        var (zeroUser, _, zero, zeroId) = await UserWithPasskeyAsync();
        using var ___ = zero;
        zero.CounterStep = 0;
        for (var i = 0; i < 2; i++)
        {
            begun = Ok(await Ceremonies.BeginAssertionAsync(zeroUser, default));
            Assert.Equal(zeroId, Ok(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, zeroUser, Element(zero.Assert(begun.Options)), default)).CredentialId);
        }

        // A user without passkeys has nothing to assert with.
        var (plain, _) = await F.CreateUserAsync(admin: admin);
        Assert.False(await Ceremonies.HasPasskeyAsync(plain, default));
        Refused(await Ceremonies.BeginAssertionAsync(plain, default), 404, ErrorCodes.NotFound);
    }

    [SuiteFact]
    public async Task Cloned_passkey_is_refused_when_its_counter_does_not_increase()
    {
        var admin = await F.AdminAsync();
        var (userId, _, original, passkeyId) = await UserWithPasskeyAsync();
        using var _ = original;
        using var clone = original.Clone();

        var begun = Ok(await Ceremonies.BeginAssertionAsync(userId, default));
        Ok(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, userId, Element(original.Assert(begun.Options)), default));

        // The clone still holds the old counter: it presents 1 after 1.
        begun = Ok(await Ceremonies.BeginAssertionAsync(null, default));
        Refused(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, null, Element(clone.Assert(begun.Options)), default), 401, ErrorCodes.PasskeyCounterRegression);

        // Without the key (a forged signature) a low counter is a failed verification: nobody can raise clone alarms at will.
        clone.SignCount = 0;
        clone.CorruptSignature = true;
        begun = Ok(await Ceremonies.BeginAssertionAsync(userId, default));
        Refused(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, userId, Element(clone.Assert(begun.Options)), default), 401, ErrorCodes.PasskeyVerificationFailed);
        clone.CorruptSignature = false;

        // A counter that drops to 0 after counting is as suspect as one that goes back.
        clone.SignCount = 0;
        clone.CounterStep = 0;
        begun = Ok(await Ceremonies.BeginAssertionAsync(userId, default));
        Refused(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, userId, Element(clone.Assert(begun.Options)), default), 401, ErrorCodes.PasskeyCounterRegression);

        // The genuine authenticator, still counting up, goes on working; the stored counter never moved back.
        begun = Ok(await Ceremonies.BeginAssertionAsync(userId, default));
        Assert.Equal(passkeyId, Ok(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, userId, Element(original.Assert(begun.Options)), default)).CredentialId);
        Assert.Equal(2, await F.InspectAsync<long>("SELECT sign_count FROM passkey_credentials WHERE id = @passkeyId", new { passkeyId }));

        Assert.Equal(2, (await AuditEventsAsync(admin.Access, "event=" + PasskeyAuditEvents.CounterRegression + "&userId=" + userId)).Count);
    }

    [SuiteFact]
    public async Task Passkey_assertion_refuses_replays_foreign_origins_other_users_and_unknown_credentials()
    {
        var admin = await F.AdminAsync();
        var (alice, _, aliceKey, _) = await UserWithPasskeyAsync();
        var (bob, _, bobKey, _) = await UserWithPasskeyAsync();
        using var a = aliceKey;
        using var b = bobKey;

        // Replay: the same answer to the same challenge a second time.
        var begun = Ok(await Ceremonies.BeginAssertionAsync(null, default));
        var answer = Element(aliceKey.Assert(begun.Options));
        Ok(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, null, answer, default));
        Refused(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, null, answer, default), 400, ErrorCodes.PasskeyChallengeInvalid);

        // Expired challenge.
        begun = Ok(await Ceremonies.BeginAssertionAsync(alice, default));
        F.Time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        Refused(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, alice, Element(aliceKey.Assert(begun.Options)), default), 400, ErrorCodes.PasskeyChallengeInvalid);

        // A page on another origin (phishing) or for another relying party; a broken signature; no user presence.
        foreach (var (what, turn, undo) in new (string, Action, Action)[]
        {
            ("origin", () => aliceKey.Origin = "https://login.evil.example", () => aliceKey.Origin = PasskeyOrigin),
            ("rp id", () => aliceKey.RpIdOverride = "evil.example", () => aliceKey.RpIdOverride = null),
            ("signature", () => aliceKey.CorruptSignature = true, () => aliceKey.CorruptSignature = false),
            ("presence", () => aliceKey.UserPresent = false, () => aliceKey.UserPresent = true),
            ("type", () => aliceKey.TypeOverride = "webauthn.create", () => aliceKey.TypeOverride = null),
            ("challenge", () => aliceKey.ChallengeOverride = Base64Url.EncodeToString(new byte[32]), () => aliceKey.ChallengeOverride = null),
        })
        {
            begun = Ok(await Ceremonies.BeginAssertionAsync(alice, default));
            turn();
            var refused = await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, alice, Element(aliceKey.Assert(begun.Options)), default);
            undo();
            Assert.True(refused.Error is { Status: 401, Code: ErrorCodes.PasskeyVerificationFailed }, $"{what}: {refused.Error?.Code} {refused.Error?.Detail}");
        }

        // Discoverable sign-in needs user verification.
        begun = Ok(await Ceremonies.BeginAssertionAsync(null, default));
        aliceKey.UserVerified = false;
        Refused(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, null, Element(aliceKey.Assert(begun.Options)), default), 401, ErrorCodes.PasskeyVerificationFailed);
        aliceKey.UserVerified = true;

        // Bob's passkey cannot complete Alice's second factor, whichever challenge it answers.
        begun = Ok(await Ceremonies.BeginAssertionAsync(alice, default));
        Refused(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, alice, Element(bobKey.Assert(begun.Options)), default), 401, ErrorCodes.PasskeyWrongUser);
        begun = Ok(await Ceremonies.BeginAssertionAsync(null, default));
        Refused(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, alice, Element(bobKey.Assert(begun.Options)), default), 401, ErrorCodes.PasskeyWrongUser);
        // A challenge issued for Bob is not Alice's.
        begun = Ok(await Ceremonies.BeginAssertionAsync(bob, default));
        Refused(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, alice, Element(aliceKey.Assert(begun.Options)), default), 400, ErrorCodes.PasskeyChallengeInvalid);

        // A credential nobody registered.
        using var stranger = new SoftwareAuthenticator(PasskeyOrigin);
        begun = Ok(await Ceremonies.BeginAssertionAsync(null, default));
        Refused(await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, null, Element(stranger.Assert(begun.Options)), default), 401, ErrorCodes.PasskeyUnknownCredential);

        // Unknown and registration challenges are not assertion challenges.
        Refused(await Ceremonies.CompleteAssertionAsync("pkc_nope", null, Element(aliceKey.Assert(begun.Options)), default), 400, ErrorCodes.PasskeyChallengeInvalid);

        var failures = await AuditEventsAsync(admin.Access, "event=" + PasskeyAuditEvents.Failed + "&userId=" + alice);
        Assert.True(failures.Count >= 8, "failed assertions audited: " + failures.Count);
    }
}
