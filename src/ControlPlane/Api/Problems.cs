using Authio.Shared.Errors;

namespace Authio.ControlPlane.Api;

/// <summary>Every rejection is <c>application/problem+json</c> with a stable <c>code</c>.</summary>
internal static class Problems
{
    public static IResult Of(int status, string code, string title, string? detail = null) =>
        Results.Problem(statusCode: status, title: title, detail: detail, type: ProblemTypes.For(code),
            extensions: new Dictionary<string, object?> { ["code"] = code });

    public static IResult Validation(IDictionary<string, string[]> errors, string? detail = null) =>
        Results.Problem(statusCode: 400, title: "Validation failed", detail: detail ?? "One or more fields are invalid.",
            type: ProblemTypes.For(ErrorCodes.ValidationFailed), extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.ValidationFailed, ["errors"] = errors });

    public static IResult Validation(string field, string message, string? detail = null) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] }, detail);

    public static IResult Unauthorized(string? detail = null) =>
        Of(401, ErrorCodes.Unauthorized, "Unauthorized", detail ?? "Missing or invalid credentials.");

    public static IResult Forbidden(string? detail = null) =>
        Of(403, ErrorCodes.Forbidden, "Forbidden", detail ?? "Your role does not allow this.");

    public static IResult NotFound(string what = "Resource") =>
        Of(404, ErrorCodes.NotFound, "Not found", what + " not found.");

    public static IResult Conflict(string detail) => Of(409, ErrorCodes.Conflict, "Conflict", detail);

    public static IResult Locked(string detail) => Of(423, ErrorCodes.AccountLocked, "Account locked", detail);

    public static IResult PayloadTooLarge(long limit) => Of(413, ErrorCodes.PayloadTooLarge, "Payload too large",
        $"The request body exceeds the limit of {limit} bytes.");
}

/// <summary>An expected failure of a domain operation, turned into a problem response at the edge of the API.</summary>
internal sealed record Failure(int Status, string Code, string Title, string Detail, IDictionary<string, string[]>? Errors = null)
{
    /// <summary>Sent as <c>Retry-After</c> (seconds) when set: rate-limit refusals.</summary>
    public int? RetryAfterSeconds { get; init; }

    public IResult ToResult()
    {
        var problem = Errors is null ? Problems.Of(Status, Code, Title, Detail) : Problems.Validation(Errors, Detail);
        return RetryAfterSeconds is { } seconds ? new RetryAfterResult(problem, seconds) : problem;
    }

    private sealed class RetryAfterResult(IResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }

    public static Failure NotFound(string what) => new(404, ErrorCodes.NotFound, "Not found", what + " not found.");
    public static Failure Conflict(string detail) => new(409, ErrorCodes.Conflict, "Conflict", detail);
    public static Failure Unauthorized(string detail = "Missing or invalid credentials.") => new(401, ErrorCodes.Unauthorized, "Unauthorized", detail);
    public static Failure Forbidden(string detail = "Your role does not allow this.") => new(403, ErrorCodes.Forbidden, "Forbidden", detail);
    public static Failure Invalid(IDictionary<string, string[]> errors) =>
        new(400, ErrorCodes.ValidationFailed, "Validation failed", "One or more fields are invalid.", errors);
    public static Failure Invalid(string field, string message) =>
        new(400, ErrorCodes.ValidationFailed, "Validation failed", "One or more fields are invalid.", new Dictionary<string, string[]> { [field] = [message] });
}
