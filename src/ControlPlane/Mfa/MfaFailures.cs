using Authio.ControlPlane.Api;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Mfa;

/// <summary>The MFA refusals, each with its stable code (see <see cref="ErrorCodes"/>).</summary>
internal static class MfaFailures
{
    public static Failure TokenInvalid() =>
        new(401, ErrorCodes.MfaTokenInvalid, "Invalid mfa_token", "The mfa_token is unknown, already used, or from another client: sign in again.");

    public static Failure TokenExpired() =>
        new(401, ErrorCodes.MfaTokenExpired, "Expired mfa_token", "The mfa_token expired (it lasts 5 minutes): sign in again.");

    public static Failure CodeInvalid(int status = 401) =>
        new(status, ErrorCodes.MfaCodeInvalid, "Invalid code", "The code is not valid.");

    public static Failure CodeReplayed() =>
        new(401, ErrorCodes.MfaCodeReplayed, "Code already used", "This code was already used; wait for the next one from your authenticator app.");

    public static Failure RecoveryCodeUsed() =>
        new(401, ErrorCodes.MfaRecoveryCodeUsed, "Recovery code already used", "This recovery code was already used; each works once.");

    public static Failure MethodUnavailable(string method) =>
        new(400, ErrorCodes.MfaMethodUnavailable, "Method unavailable", $"The second factor '{method}' is not enrolled or not offered for this user.");

    public static Failure EnrollmentRequired() =>
        new(403, ErrorCodes.MfaEnrollmentRequired, "MFA enrolment required",
            "Your organization requires multi-factor authentication: enrol a second factor (POST /v1/users/me/mfa/totp) before anything else.");
}
