using System.Text.Json;
using System.Text.RegularExpressions;

namespace Authio.ControlPlane.Api;

/// <summary>
/// Turns the framework's request-binding failures (malformed or wrong-typed JSON, invalid UTF-8, nesting beyond 64
/// levels, unparsable query values, a body cut off at the size limit, a malformed form) into problem+json:
/// 400 <c>validation_failed</c> naming the field where the framework knows it (<c>errors.&lt;field&gt;</c>), 413
/// <c>payload_too_large</c>. Handled here rather than by the exception handler, so a client's mistake is not logged as a
/// server error. Needs <c>RouteHandlerOptions.ThrowOnBadRequest</c>.
/// </summary>
internal sealed partial class BadRequestMiddleware(RequestDelegate next, Hosting.ControlPlaneOptions options)
{
    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http);
        }
        catch (BadHttpRequestException e) when (!http.Response.HasStarted)
        {
            http.Response.Clear();
            if (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                await Failure.PayloadTooLarge(options.Limits.MaxRequestBodyBytes).ExecuteAsync(http);
                return;
            }
            var (field, message) = Describe(e);
            await Failure.Invalid(field, message).ExecuteAsync(http);
        }
        catch (InvalidDataException) when (!http.Response.HasStarted && http.Request.HasFormContentType)
        {
            // Form reader limits (value count, key length) and malformed multipart.
            http.Response.Clear();
            await Failure.Invalid("body", "The form is malformed or exceeds a form limit.").ExecuteAsync(http);
        }
    }

    private static (string Field, string Message) Describe(BadHttpRequestException e)
    {
        if (e.InnerException is JsonException json)
        {
            var path = json.Path;
            return path is { Length: > 2 } && path.StartsWith("$.", StringComparison.Ordinal) && path.Length <= 200
                ? (path[2..], "has the wrong JSON type or an invalid value.")
                : ("body", "The request body is not valid JSON (UTF-8, at most 64 levels deep) of the expected shape.");
        }
        if (e.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            return ("body", "The request body must be application/json.");
        }

        var parameter = ParameterName().Match(e.Message);
        return parameter.Success && parameter.Groups[1].Value != "body"
            ? (parameter.Groups[1].Value, "is missing or not a valid value of its type.")
            : ("body", "The request body is missing or is not valid JSON.");
    }

    // The framework's messages name the parameter as "Type name", e.g. Failed to bind parameter "int? limit" from "x".
    [GeneratedRegex("parameter \"[^\"]* (\\w+)\"", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex ParameterName();
}
