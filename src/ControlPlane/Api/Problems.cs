using Authio.Shared.Errors;

namespace Authio.ControlPlane.Api;

/// <summary>
/// The HTTP writer of a <see cref="Failure"/>: <c>application/problem+json</c> with <c>type</c>
/// (<c>urn:authio:problem:&lt;code&gt;</c>), the stable <c>code</c>, <c>errors</c> for validation failures and
/// <c>Retry-After</c> for rate-limit refusals. The kinds of error themselves are <see cref="Failure"/>'s.
/// </summary>
internal static class Problems
{
    public static Task WriteAsync(HttpContext http, Failure failure)
    {
        if (failure.RetryAfterSeconds is not null)
        {
            http.Response.Headers.RetryAfter = failure.RetryAfterHeader;
        }
        if (failure.WwwAuthenticate is not null)
        {
            http.Response.Headers.WWWAuthenticate = failure.WwwAuthenticate;
        }
        var extensions = new Dictionary<string, object?> { ["code"] = failure.Code };
        if (failure.Errors is not null)
        {
            extensions["errors"] = failure.Errors;
        }
        return Results.Problem(statusCode: failure.Status, title: failure.Title, detail: failure.Detail, type: ProblemTypes.For(failure.Code),
            extensions: extensions).ExecuteAsync(http);
    }
}
