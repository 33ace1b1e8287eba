namespace Authio.Shared.Errors;

/// <summary>
/// Stable machine-readable <c>code</c> values carried in every <c>application/problem+json</c> rejection,
/// by the edge and the control plane alike. Clients branch on these; never rename one.
/// </summary>
public static class ErrorCodes
{
    public const string Unauthorized = "unauthorized";
    public const string TokenExpired = "token_expired";
    public const string Forbidden = "forbidden";
    public const string OrgMismatch = "org_mismatch";
    /// <summary>The route names a project (<c>Authio.ProjectRouteValue</c>) the credential holds no role on.</summary>
    public const string ProjectMismatch = "project_mismatch";
    public const string RateLimitExceeded = "rate_limit_exceeded";
    public const string ValidationFailed = "validation_failed";
    public const string NotFound = "not_found";
    public const string Conflict = "conflict";
    public const string AccountLocked = "account_locked";
    public const string PayloadTooLarge = "payload_too_large";
    public const string InternalError = "internal_error";
    /// <summary>
    /// The control plane's database is busy or unreachable (503 with <c>Retry-After</c>): nothing was changed, and the
    /// same request can be retried.
    /// </summary>
    public const string StoreUnavailable = "store_unavailable";
    /// <summary>
    /// The edge could not check the credential right now and refused rather than guess (401, bare <c>Bearer</c> challenge,
    /// <c>Retry-After: 1</c>): an API key its caches do not hold while the control plane is unreachable, slow or its
    /// look-ups saturated, or a revocation-filter hit while the exact set cannot be asked (<c>Edge:Revocation:FailClosed</c>).
    /// Not a verdict on the credential: retry it shortly; do not discard it or sign the user out.
    /// </summary>
    public const string VerificationUnavailable = "verification_unavailable";
    public const string BadGateway = "bad_gateway";
    /// <summary>The edge has no healthy destination for the route's cluster (503).</summary>
    public const string UpstreamUnavailable = "upstream_unavailable";
    /// <summary>The upstream did not answer within the route's or cluster's activity timeout (504).</summary>
    public const string UpstreamTimeout = "upstream_timeout";
    /// <summary>The request path carries encoded separators or dot segments the edge refuses before routing (400).</summary>
    public const string InvalidPath = "invalid_path";
    /// <summary>The request's header section exceeds the edge's limit (431).</summary>
    public const string RequestHeaderTooLarge = "request_header_too_large";
    /// <summary>The client's request could not be read to the end (e.g. its body broke off) (400).</summary>
    public const string BadRequest = "bad_request";
    /// <summary>A route matches the path but not the method (405, with <c>Allow</c>).</summary>
    public const string MethodNotAllowed = "method_not_allowed";
    /// <summary>
    /// The token is valid but its sign-in is too old or too weak for the route or action (401 with RFC 9470's
    /// <c>insufficient_user_authentication</c> challenge naming <c>max_age</c> and/or <c>acr_values</c>).
    /// </summary>
    public const string StepUpRequired = "step_up_required";
    /// <summary>
    /// A forward-auth check (the edge answering nginx <c>auth_request</c>, Traefik <c>forwardAuth</c>, Envoy
    /// <c>ext_authz</c>) whose forwarded headers are missing or malformed: the original request cannot be known (400).
    /// </summary>
    public const string InvalidForwardedRequest = "invalid_forwarded_request";
    /// <summary>The <c>mfa_token</c> of a two-step sign-in is unknown, used up, or presented by another client (401).</summary>
    public const string MfaTokenInvalid = "mfa_token_invalid";
    /// <summary>The <c>mfa_token</c> of a two-step sign-in is older than its 5 minutes: sign in again (401).</summary>
    public const string MfaTokenExpired = "mfa_token_expired";
    /// <summary>The one-time code (TOTP or recovery code) is wrong (401; 400 when confirming an enrolment).</summary>
    public const string MfaCodeInvalid = "mfa_code_invalid";
    /// <summary>The TOTP code was already used (its time step, or a later one, was accepted before) (401).</summary>
    public const string MfaCodeReplayed = "mfa_code_replayed";
    /// <summary>The recovery code was already used; each works once (401).</summary>
    public const string MfaRecoveryCodeUsed = "mfa_recovery_code_used";
    /// <summary>The second factor named is not enrolled or not offered for this user (400).</summary>
    public const string MfaMethodUnavailable = "mfa_method_unavailable";
    /// <summary>The org's MFA policy requires this user to enrol a second factor first; only enrolment is open (403).</summary>
    public const string MfaEnrollmentRequired = "mfa_enrollment_required";
    /// <summary>A passkey attestation or assertion that cannot be read (malformed JSON, CBOR, base64url, missing fields) or a registration that fails verification (400).</summary>
    public const string PasskeyInvalid = "passkey_invalid";
    /// <summary>The passkey challenge is unknown, expired, already answered, or was issued for another ceremony or user (400).</summary>
    public const string PasskeyChallengeInvalid = "passkey_challenge_invalid";
    /// <summary>The assertion names a credential that is not registered (401).</summary>
    public const string PasskeyUnknownCredential = "passkey_unknown_credential";
    /// <summary>The assertion is made with a passkey of another user than the one signing in (401).</summary>
    public const string PasskeyWrongUser = "passkey_wrong_user";
    /// <summary>The assertion fails verification: signature, origin, relying party, challenge or user presence/verification (401).</summary>
    public const string PasskeyVerificationFailed = "passkey_verification_failed";
    /// <summary>The authenticator's signature counter did not increase: the credential may have been cloned (401).</summary>
    public const string PasskeyCounterRegression = "passkey_counter_regression";
    /// <summary>
    /// A webhook URL the control plane will not call: not https, carries credentials, or its host resolves to a private,
    /// loopback, link-local, metadata or other internal address (400; unless <c>ControlPlane:Webhooks:AllowPrivateNetworks</c>).
    /// </summary>
    public const string WebhookUrlRefused = "webhook_url_refused";

    /// <summary>
    /// A data-subject export that was already downloaded (its content is handed out once) or has expired (410).
    /// </summary>
    public const string ExportGone = "export_gone";

    /// <summary>
    /// The password was right but the sign-in's risk score is above <c>ControlPlane:Risk:StepUpAbove</c> and the user has no
    /// second factor to step up with: refused (401), reported as <c>suspicious_sign_in</c> with <c>action: refused</c>.
    /// </summary>
    public const string SignInStepUpRequired = "sign_in_step_up_required";
}
