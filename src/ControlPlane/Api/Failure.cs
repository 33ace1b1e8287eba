using System.Globalization;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Api;

/// <summary>
/// The control plane's one error vocabulary: every refusal, from a service (<see cref="Result{T}"/>) or straight from an
/// endpoint, filter or middleware, is a <see cref="Failure"/> with an HTTP status and a stable <c>code</c> from
/// <see cref="ErrorCodes"/>. It is itself the HTTP result: <see cref="Problems"/> writes it as problem+json.
/// Exceptions are kept for bugs.
/// </summary>
internal sealed record Failure(int Status, string Code, string Title, string Detail, IDictionary<string, string[]>? Errors = null) : IResult
{
    /// <summary>Sent as <c>Retry-After</c> (seconds) when set: rate-limit refusals.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Sent as <c>WWW-Authenticate</c> when set: the RFC 9470 step-up challenge.</summary>
    public string? WwwAuthenticate { get; init; }

    public Task ExecuteAsync(HttpContext httpContext) => Problems.WriteAsync(httpContext, this);

    /// <summary>400 <c>validation_failed</c> with <c>errors.&lt;field&gt;</c>.</summary>
    public static Failure Invalid(IDictionary<string, string[]> errors, string? detail = null) =>
        new(400, ErrorCodes.ValidationFailed, "Validation failed", detail ?? "One or more fields are invalid.", errors);

    public static Failure Invalid(string field, string message, string? detail = null) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] }, detail);

    public static Failure Unauthorized(string detail = "Missing or invalid credentials.") => new(401, ErrorCodes.Unauthorized, "Unauthorized", detail);

    public static Failure Forbidden(string detail = "Your role does not allow this.") => new(403, ErrorCodes.Forbidden, "Forbidden", detail);

    public static Failure NotFound(string what = "Resource") => new(404, ErrorCodes.NotFound, "Not found", what + " not found.");

    public static Failure Conflict(string detail) => new(409, ErrorCodes.Conflict, "Conflict", detail);

    public static Failure PayloadTooLarge(long limit) =>
        new(413, ErrorCodes.PayloadTooLarge, "Payload too large", $"The request body exceeds the limit of {limit} bytes.");

    public static Failure Locked(string detail) => new(423, ErrorCodes.AccountLocked, "Account locked", detail);

    /// <summary>429 <c>rate_limit_exceeded</c> with <c>Retry-After</c>.</summary>
    public static Failure TooManyRequests(string detail, int retryAfterSeconds) =>
        new(429, ErrorCodes.RateLimitExceeded, "Too many requests", detail) { RetryAfterSeconds = retryAfterSeconds };

    /// <summary>503 <c>store_unavailable</c> with <c>Retry-After</c>: the database did not take the work in time.</summary>
    public static Failure StoreUnavailable() =>
        new(503, ErrorCodes.StoreUnavailable, "Service unavailable", "The database is busy or unreachable; nothing was changed. Retry shortly.") { RetryAfterSeconds = 1 };

    public static Failure Internal() => new(500, ErrorCodes.InternalError, "Internal error", "An unexpected error occurred.");

    internal string RetryAfterHeader => RetryAfterSeconds?.ToString(CultureInfo.InvariantCulture) ?? "";
}
