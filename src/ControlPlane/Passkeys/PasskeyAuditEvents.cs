namespace Authio.ControlPlane.Passkeys;

/// <summary>Audit event types of passkeys. Stable strings: consumers filter on them.</summary>
internal static class PasskeyAuditEvents
{
    public const string Registered = "mfa.passkey_registered";
    public const string Removed = "mfa.passkey_removed";
    /// <summary>An assertion verified (sign-in, second factor or step-up); <c>amr</c> in the details.</summary>
    public const string Verified = "mfa.passkey_verified";
    /// <summary>An assertion refused; <c>reason</c> in the details (the error code).</summary>
    public const string Failed = "mfa.passkey_failed";
    /// <summary>The signature counter did not increase: the credential may have been cloned.</summary>
    public const string CounterRegression = "mfa.passkey_counter_regression";
}
