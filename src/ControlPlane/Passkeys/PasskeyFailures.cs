using Authio.ControlPlane.Api;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Passkeys;

/// <summary>The refusals of the passkey ceremonies, each with its stable code.</summary>
internal static class PasskeyFailures
{
    public static Failure Invalid(string detail) => new(400, ErrorCodes.PasskeyInvalid, "Invalid passkey response", detail);

    public static Failure ChallengeInvalid() => new(400, ErrorCodes.PasskeyChallengeInvalid, "Invalid passkey challenge",
        "The challenge is unknown, expired or already answered, or belongs to another ceremony: start again.");

    public static Failure UnknownCredential() => new(401, ErrorCodes.PasskeyUnknownCredential, "Unknown passkey",
        "This passkey is not registered.");

    public static Failure WrongUser() => new(401, ErrorCodes.PasskeyWrongUser, "Wrong passkey",
        "This passkey belongs to another account.");

    public static Failure VerificationFailed(string detail) => new(401, ErrorCodes.PasskeyVerificationFailed, "Passkey verification failed", detail);

    public static Failure CounterRegression() => new(401, ErrorCodes.PasskeyCounterRegression, "Passkey refused",
        "The authenticator's signature counter did not increase; the passkey may have been copied. Use another sign-in method and remove this passkey.");
}
