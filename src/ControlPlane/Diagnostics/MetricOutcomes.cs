namespace Authio.ControlPlane.Diagnostics;

/// <summary>
/// The <c>outcome</c> label values of <c>authio_controlplane_sign_in_attempts_total</c>: a fixed set, so an attacker's
/// input can never add a series. Dashboards and alert rules match these strings.
/// </summary>
internal static class SignInOutcomes
{
    public const string Success = "success";
    /// <summary>A known email with a wrong password (one 401 with <see cref="UnknownUser"/> for the caller).</summary>
    public const string BadPassword = "bad_password";
    public const string UnknownUser = "unknown_user";
    /// <summary>The email is locked after too many failures (423), right password or not.</summary>
    public const string Locked = "locked";
    /// <summary>Refused by the per-address or per-account sign-in limit (429) before any bcrypt.</summary>
    public const string RateLimited = "rate_limited";
    /// <summary>Right password, but not a member of the org asked for, or deactivated.</summary>
    public const string Denied = "denied";
    /// <summary>Malformed request (missing or oversized email or password).</summary>
    public const string Invalid = "invalid";
    /// <summary>The password was right and a second factor follows (<c>POST /v1/auth/mfa</c> then records its own outcome).</summary>
    public const string MfaRequired = "mfa_required";

    /// <summary>The outcomes sign-in can produce today, exported at 0 from start so rate() and alerts see a series.</summary>
    public static readonly string[] Recorded = [Success, BadPassword, UnknownUser, Locked, RateLimited, Denied, Invalid, MfaRequired];
}

/// <summary>The <c>outcome</c> label values of <c>authio_controlplane_refresh_attempts_total</c>.</summary>
internal static class RefreshOutcomes
{
    public const string Success = "success";
    /// <summary>Reuse detection: a rotated refresh token was presented again, and its session was ended.</summary>
    public const string Reused = "reused";
    /// <summary>The session passed its idle timeout and was ended.</summary>
    public const string Idle = "idle";
    public const string Invalid = "invalid";
    public const string RateLimited = "rate_limited";

    public static readonly string[] Recorded = [Success, Reused, Idle, Invalid, RateLimited];
}

/// <summary>The <c>outcome</c> label values of <c>authio_controlplane_webhook_deliveries_total</c>.</summary>
internal static class WebhookOutcomes
{
    public const string Delivered = "delivered";
    /// <summary>A failed attempt that will be retried.</summary>
    public const string Failed = "failed";
    /// <summary>A failed attempt after which the delivery was dead-lettered.</summary>
    public const string Dead = "dead";

    public static readonly string[] Recorded = [Delivered, Failed, Dead];
}
