namespace Authio.ControlPlane.Audit;

/// <summary>Every audit event type. Stable strings: consumers filter on them.</summary>
internal static class AuditEvents
{
    public const string LoginSucceeded = "login_succeeded";
    public const string LoginFailed = "login_failed";
    public const string AccountLocked = "account_locked";
    public const string Logout = "logout";
    public const string TokenRefreshed = "token_refreshed";
    public const string RefreshReuseDetected = "refresh_reuse_detected";
    /// <summary>A sign-in that looks like an attack (details: <c>reasons</c>, comma-separated, and <c>risk_score</c> 0–100).</summary>
    public const string SuspiciousSignIn = "suspicious_sign_in";
    public const string SessionEnded = "session_ended";
    public const string ForceLogout = "force_logout";
    public const string PasswordChanged = "password_changed";
    public const string OrgCreated = "org_created";
    public const string OrgUpdated = "org_updated";
    public const string OrgRateLimitChanged = "org_rate_limit_changed";
    public const string UserCreated = "user_created";
    public const string UserDeactivated = "user_deactivated";
    public const string RoleAssigned = "role_assigned";
    public const string RoleRevoked = "role_revoked";
    public const string TeamCreated = "team_created";
    public const string TeamRenamed = "team_renamed";
    public const string TeamDeleted = "team_deleted";
    public const string TeamMemberAdded = "team_member_added";
    public const string TeamMemberRemoved = "team_member_removed";
    public const string SigningKeyCreated = "signing_key_created";
    public const string SigningKeyRetirementScheduled = "signing_key_retirement_scheduled";
    public const string SigningKeyActivated = "signing_key_activated";
    public const string SigningKeyRetired = "signing_key_retired";
    public const string SigningKeyRevoked = "signing_key_revoked";
    /// <summary>In the operator's org: a platform operator revoked another org's key (the key's org records <c>signing_key_revoked</c>).</summary>
    public const string PlatformSigningKeyRevoked = "platform_signing_key_revoked";
    public const string SigningDataKeyRotated = "signing_data_key_rotated";
    public const string ApiKeyCreated = "api_key_created";
    public const string ApiKeyRotated = "api_key_rotated";
    public const string ApiKeyRevoked = "api_key_revoked";
    public const string ApiKeyExpired = "api_key_expired";
    public const string ApiKeyUsedAfterRevoke = "api_key_used_after_revoke";
    public const string ApiKeyScopeCreated = "api_key_scope_created";
    public const string AccessTokenRevoked = "access_token_revoked";
    /// <summary>A TOTP authenticator was confirmed (enrolment complete; recovery codes issued).</summary>
    public const string MfaTotpEnrolled = "mfa.totp_enrolled";
    /// <summary>The user's TOTP authenticator and recovery codes were removed.</summary>
    public const string MfaTotpRemoved = "mfa.totp_removed";
    public const string MfaRecoveryCodesRegenerated = "mfa.recovery_codes_regenerated";
    /// <summary>A recovery code was spent (the org sees it: a lost authenticator, or a stolen code).</summary>
    public const string MfaRecoveryCodeUsed = "mfa.recovery_code_used";
    /// <summary>A second factor was accepted (sign-in second step); details name the method.</summary>
    public const string MfaSucceeded = "mfa.succeeded";
    /// <summary>A second factor was refused (wrong, replayed, used code; bad or expired mfa_token); details say why.</summary>
    public const string MfaFailed = "mfa.failed";
    /// <summary>A session's authentication was raised (step-up); details name the method and the new acr.</summary>
    public const string MfaStepUp = "mfa.step_up";
    /// <summary>A sensitive action was refused for want of a recent or strong enough sign-in.</summary>
    public const string StepUpRequired = "mfa.step_up_required";
    public const string OrgMfaPolicyChanged = "org_mfa_policy_changed";
    public const string WebhookCreated = "webhook_created";
    public const string WebhookUpdated = "webhook_updated";
    public const string WebhookDeleted = "webhook_deleted";
    public const string WebhookSecretRotated = "webhook_secret_rotated";
    /// <summary>A mod requested an export of a person's data (details: <c>export_id</c>, <c>records</c>).</summary>
    public const string UserExportCreated = "user_export_created";
    /// <summary>The export was downloaded (once; details: <c>export_id</c>).</summary>
    public const string UserExportDownloaded = "user_export_downloaded";
    /// <summary>
    /// A person's data was erased from the org; names no one (details: <c>subject</c>, a keyed pseudonym, and counts).
    /// The events about the person are redacted by commitment and still verify.
    /// </summary>
    public const string UserErased = "user_erased";
}
