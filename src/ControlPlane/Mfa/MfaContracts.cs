using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;

namespace Authio.ControlPlane.Mfa;

internal sealed record MfaStatusView(
    [property: JsonPropertyName("totp")] bool Totp,
    [property: JsonPropertyName("totp_pending")] bool TotpPending,
    [property: JsonPropertyName("recovery_codes_left")] long RecoveryCodesLeft,
    [property: JsonPropertyName("passkeys")] bool Passkeys,
    [property: JsonPropertyName("policy")] string Policy,
    [property: JsonPropertyName("required")] bool Required,
    [property: JsonPropertyName("session_acr")] string? SessionAcr);

internal sealed record TotpEnrollmentView(
    [property: JsonPropertyName("secret")] string Secret,
    [property: JsonPropertyName("otpauth_uri")] string OtpauthUri,
    [property: JsonPropertyName("qr_svg")] string QrSvg,
    [property: JsonPropertyName("qr_png")] string QrPng);

internal sealed record TotpConfirmationView(
    [property: JsonPropertyName("recovery_codes")] IReadOnlyList<string> RecoveryCodes,
    [property: JsonPropertyName("access_token")] string? AccessToken,
    [property: JsonPropertyName("expires_in")] int? ExpiresIn,
    [property: JsonPropertyName("acr")] string? Acr);

internal sealed record RecoveryCodesView([property: JsonPropertyName("recovery_codes")] IReadOnlyList<string> RecoveryCodes);

internal sealed record StepUpView(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("acr")] string Acr,
    [property: JsonPropertyName("amr")] IReadOnlyList<string> Amr,
    [property: JsonPropertyName("auth_time")] long AuthTime);

/// <summary>The first step's answer when a second factor is needed (200, no tokens yet).</summary>
internal sealed record MfaRequiredResponse(
    [property: JsonPropertyName("mfa_required")] bool MfaRequired,
    [property: JsonPropertyName("mfa_token")] string MfaToken,
    [property: JsonPropertyName("methods")] IReadOnlyList<string> Methods,
    [property: JsonPropertyName("expires_in")] int ExpiresIn)
{
    public static MfaRequiredResponse From(MfaPending p) => new(true, p.MfaToken, p.Methods, p.ExpiresIn);
}

internal sealed record PasskeyAssertionOptionsView(
    [property: JsonPropertyName("challenge_id")] string ChallengeId,
    [property: JsonPropertyName("options")] System.Text.Json.Nodes.JsonObject Options)
{
    public static PasskeyAssertionOptionsView From(PasskeyChallenge c) => new(c.ChallengeId, c.Options);
}

internal sealed record TotpCodeRequest([property: JsonPropertyName("code"), Required, StringLength(Bounds.MaxIdLength)] string? Code);

/// <summary>A second factor: <c>totp</c>/<c>recovery_code</c> with <c>code</c>, or <c>passkey</c> with <c>challenge_id</c> and <c>assertion</c>.</summary>
internal sealed record MfaFactorRequest(
    [property: JsonPropertyName("method"), Required, StringLength(32)] string? Method,
    [property: JsonPropertyName("code"), StringLength(64)] string? Code = null,
    [property: JsonPropertyName("challenge_id"), StringLength(Bounds.MaxIdLength)] string? ChallengeId = null,
    [property: JsonPropertyName("assertion")] JsonElement? Assertion = null)
{
    [JsonIgnore]
    public MfaProof Proof => new(Method, Code, ChallengeId, Assertion);
}

internal sealed record MfaCompleteRequest(
    [property: JsonPropertyName("mfa_token"), Required, StringLength(512)] string? MfaToken,
    [property: JsonPropertyName("method"), Required, StringLength(32)] string? Method,
    [property: JsonPropertyName("code"), StringLength(64)] string? Code = null,
    [property: JsonPropertyName("challenge_id"), StringLength(Bounds.MaxIdLength)] string? ChallengeId = null,
    [property: JsonPropertyName("assertion")] JsonElement? Assertion = null)
{
    [JsonIgnore]
    public MfaProof Proof => new(Method, Code, ChallengeId, Assertion);
}

internal sealed record MfaTokenRequest([property: JsonPropertyName("mfa_token"), Required, StringLength(512)] string? MfaToken);

internal sealed record PasskeyLoginRequest(
    [property: JsonPropertyName("challenge_id"), Required, StringLength(Bounds.MaxIdLength)] string? ChallengeId,
    [property: JsonPropertyName("assertion"), Required] JsonElement? Assertion,
    [property: JsonPropertyName("org_id"), StringLength(Bounds.MaxIdLength)] string? OrgId = null);
