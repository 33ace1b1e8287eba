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
    public const string BadGateway = "bad_gateway";
}
