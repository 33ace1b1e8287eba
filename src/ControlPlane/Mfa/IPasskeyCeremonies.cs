using System.Text.Json;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Api;

namespace Authio.ControlPlane.Mfa;

/// <summary>
/// WebAuthn assertions as the sign-in flows see them: a passkey as the only factor (discoverable credential), as the
/// second factor after a password, and for step-up. Registration and the credential list live with the passkeys.
/// </summary>
internal interface IPasskeyCeremonies
{
    /// <summary>Whether the user has at least one registered passkey (it then counts as an MFA method).</summary>
    Task<bool> HasPasskeyAsync(string userId, CancellationToken ct);

    /// <summary>
    /// Starts an assertion: a single-use challenge (5 minutes) and the options to hand the browser
    /// (<c>PublicKeyCredentialRequestOptions</c> as JSON). <paramref name="userId"/> null = discoverable sign-in (no
    /// allow-list); otherwise the user's credentials are the allow-list and only they can complete it.
    /// </summary>
    Task<Result<PasskeyChallenge>> BeginAssertionAsync(string? userId, CancellationToken ct);

    /// <summary>
    /// Verifies a browser's assertion (<c>AuthenticatorAssertionRawResponse</c> JSON) against the challenge, consuming it:
    /// signature, origin, relying party, user presence/verification and the sign counter (a regression is refused as a
    /// clone). With <paramref name="expectedUserId"/>, a credential of anyone else is refused.
    /// </summary>
    Task<Result<PasskeyAssertion>> CompleteAssertionAsync(string challengeId, string? expectedUserId, JsonElement assertion, CancellationToken ct);
}

/// <summary>A started assertion: the id to send back with the answer, and the options for <c>navigator.credentials.get</c>.</summary>
internal sealed record PasskeyChallenge(string ChallengeId, JsonObject Options);

/// <summary>
/// A verified assertion: whose credential it was, and its <c>amr</c> (RFC 8176): <c>hwk</c> for a device-bound
/// credential, <c>swk</c> for one the authenticator says may be synced (backup eligible).
/// </summary>
internal sealed record PasskeyAssertion(string UserId, string CredentialId, string Amr);
