using System.Text.Json;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Mfa;
using Authio.ControlPlane.Storage;
using Fido2NetLib;
using Fido2NetLib.Exceptions;
using Fido2NetLib.Objects;

namespace Authio.ControlPlane.Passkeys;

/// <summary>
/// WebAuthn assertions for the sign-in flows (<see cref="IPasskeyCeremonies"/>). The library verifies signature, origin,
/// RP ID hash, challenge and flags; this class adds what is policy: whose credential it may be, the counter rule (a
/// counter that does not increase while either value is non-zero is refused as a clone), single-use challenges
/// shared by every instance, and the <c>amr</c> (<c>swk</c> when the authenticator says the key may be synced).
/// </summary>
internal sealed partial class PasskeyCeremonies(
    PasskeyStore store, IFido2 fido, PasskeyAudit audit, TimeProvider time, ILogger<PasskeyCeremonies> logger) : IPasskeyCeremonies
{
    public const string AssertKind = "assert";

    public async Task<bool> HasPasskeyAsync(string userId, CancellationToken ct) => await store.CountAsync(userId, ct) > 0;

    public async Task<Result<PasskeyChallenge>> BeginAssertionAsync(string? userId, CancellationToken ct)
    {
        List<PublicKeyCredentialDescriptor> allowed = [];
        if (userId is not null)
        {
            allowed = (await store.ListAsync(userId, ct)).Select(p => new PublicKeyCredentialDescriptor(PasskeyWire.Decode(p.CredentialId))).ToList();
            if (allowed.Count == 0)
            {
                return Failure.NotFound("Passkey");
            }
        }

        var options = fido.GetAssertionOptions(new GetAssertionOptionsParams
        {
            AllowedCredentials = allowed,
            // A passkey that is the only factor must have verified the person (PIN, biometric); as a second factor
            // presence is enough, the password was the other factor.
            UserVerification = userId is null ? UserVerificationRequirement.Required : UserVerificationRequirement.Preferred,
        });
        var json = options.ToJson();
        var now = time.GetUtcNow();
        var row = new PasskeyChallengeRow
        {
            Id = Ids.New("pkc"),
            Kind = AssertKind,
            UserId = userId,
            Options = json,
            CreatedAt = now.ToUnixTimeMilliseconds(),
            ExpiresAt = (now + PasskeyOptions.ChallengeLifetime).ToUnixTimeMilliseconds(),
        };
        await store.InsertChallengeAsync(row, ct);
        return new PasskeyChallenge(row.Id, JsonNode.Parse(json)!.AsObject());
    }

    public async Task<Result<PasskeyAssertion>> CompleteAssertionAsync(string challengeId, string? expectedUserId, JsonElement assertion, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(challengeId) || challengeId.Length > 100)
        {
            return await RefuseAsync(expectedUserId, null, PasskeyFailures.ChallengeInvalid(), ct);
        }

        // Any answer consumes the challenge, so a refused one cannot be retried against it.
        var challenge = await store.TakeChallengeAsync(challengeId, ct);
        if (challenge is null || challenge.Kind != AssertKind || challenge.ExpiresAt < time.GetUtcNow().ToUnixTimeMilliseconds()
            || (challenge.UserId is not null && expectedUserId is not null && challenge.UserId != expectedUserId))
        {
            return await RefuseAsync(expectedUserId, null, PasskeyFailures.ChallengeInvalid(), ct);
        }

        var owner = expectedUserId ?? challenge.UserId;
        if (PasskeyWire.Read<AuthenticatorAssertionRawResponse>(assertion) is not { } raw
            || raw.RawId is not { Length: > 0 } || raw.Response is null)
        {
            return await RefuseAsync(owner, null, PasskeyFailures.Invalid(
                "assertion must be the browser's PublicKeyCredential (id, rawId, type, response.authenticatorData, response.clientDataJSON, response.signature) as JSON."), ct);
        }

        var credential = await store.FindByCredentialIdAsync(PasskeyWire.Encode(raw.RawId), ct);
        if (credential is null)
        {
            return await RefuseAsync(owner, null, PasskeyFailures.UnknownCredential(), ct);
        }

        if (owner is not null && credential.UserId != owner)
        {
            // Recorded for the account being signed into (someone presented another person's passkey for it).
            return await RefuseAsync(owner, credential.Id, PasskeyFailures.WrongUser(), ct);
        }

        if (!PasskeyWire.SignatureIsExact(credential.PublicKey, raw.Response.Signature))
        {
            return await RefuseAsync(credential.UserId, credential.Id, PasskeyFailures.VerificationFailed("The signature is not a single DER sequence."), ct);
        }

        VerifyAssertionResult verified;
        try
        {
            verified = await fido.MakeAssertionAsync(new MakeAssertionParams
            {
                AssertionResponse = raw,
                OriginalOptions = AssertionOptions.FromJson(challenge.Options),
                StoredPublicKey = PasskeyWire.Decode(credential.PublicKey),
                StoredSignatureCounter = (uint)credential.SignCount,
                IsUserHandleOwnerOfCredentialIdCallback = (p, _) =>
                    Task.FromResult(p.UserHandle.AsSpan().SequenceEqual(PasskeyWire.UserHandle(credential.UserId))),
            }, ct);
        }
        catch (Fido2VerificationException ex) when (ex.Code == Fido2ErrorCode.InvalidSignCount)
        {
            return await CounterRegressionAsync(credential, null, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The library signals hostile or malformed input with many exception types; all are a refusal.
            Log.PayloadRejected(logger, "assertion", ex.GetType().Name, ex.Message);
            return await RefuseAsync(credential.UserId, credential.Id, ex is Fido2VerificationException
                ? PasskeyFailures.VerificationFailed("The assertion failed verification: " + ex.Message)
                : PasskeyFailures.Invalid("The assertion could not be read."), ct);
        }

        // The library lets a zero counter follow a non-zero one; a counter that stops counting is as suspect.
        long newCount = verified.SignCount;
        if ((credential.SignCount != 0 || newCount != 0) && newCount <= credential.SignCount)
        {
            return await CounterRegressionAsync(credential, newCount, ct);
        }

        if (!await store.RecordUseAsync(credential.Id, credential.SignCount, newCount, verified.IsBackedUp, time.GetUtcNow().ToUnixTimeMilliseconds(), ct))
        {
            // Another assertion with this credential moved the counter first: two authenticators share the key.
            return await CounterRegressionAsync(credential, newCount, ct);
        }

        var amr = PasskeyWire.BackupEligible(raw.Response.AuthenticatorData) || credential.BackupEligible == 1 ? "swk" : "hwk";
        await audit.RecordAsync(credential.UserId, new AuditEntry("", PasskeyAuditEvents.Verified)
        {
            ActorId = credential.UserId,
            Details = new() { ["passkey_id"] = credential.Id, ["amr"] = amr, ["discoverable"] = challenge.UserId is null ? "true" : "false" },
        }, ct);
        return new PasskeyAssertion(credential.UserId, credential.Id, amr);
    }

    private async Task<Result<PasskeyAssertion>> CounterRegressionAsync(PasskeyRow credential, long? presented, CancellationToken ct)
    {
        Log.CounterRegression(logger, credential.Id, credential.UserId, credential.SignCount, presented ?? -1);
        await audit.RecordAsync(credential.UserId, new AuditEntry("", PasskeyAuditEvents.CounterRegression, "failure")
        {
            ActorId = credential.UserId,
            Details = new()
            {
                ["passkey_id"] = credential.Id, ["stored_sign_count"] = credential.SignCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["presented_sign_count"] = presented?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        }, ct);
        return PasskeyFailures.CounterRegression();
    }

    private async Task<Result<PasskeyAssertion>> RefuseAsync(string? userId, string? passkeyId, Failure failure, CancellationToken ct)
    {
        Log.AssertionRefused(logger, failure.Code, userId ?? "(unknown)");
        await audit.RecordAsync(userId, new AuditEntry("", PasskeyAuditEvents.Failed, "failure")
        {
            Details = new() { ["reason"] = failure.Code, ["passkey_id"] = passkeyId },
        }, ct);
        return failure;
    }
}
