using System.Globalization;
using Authio.EdgeProxy.Errors;

namespace Authio.EdgeProxy.Grpc;

/// <summary>
/// Denials of gRPC calls (<c>content-type: application/grpc*</c>). A gRPC client reads the outcome from
/// <c>grpc-status</c>/<c>grpc-message</c>, not from an HTTP status or a problem+json body, so a denial is an HTTP 200
/// "trailers-only" response: the status travels in the one HEADERS frame that ends the stream, with no message body.
/// Written through <see cref="Pipeline.EdgeResponses"/>, which picks this form for gRPC callers.
/// </summary>
internal static class GrpcResponses
{
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    /// <summary>gRPC's retry pushback (the retry design, A6): how long a retrying client waits, in milliseconds.</summary>
    public const string RetryPushbackHeader = "grpc-retry-pushback-ms";

    private const string GrpcContentType = "application/grpc";
    private const string GrpcWebContentType = "application/grpc-web";
    private const string GrpcWebTextContentType = "application/grpc-web-text";

    /// <summary>True for gRPC and gRPC-Web calls: those clients never parse an HTTP error body.</summary>
    public static bool IsGrpc(HttpRequest request)
    {
        var contentType = request.Headers.ContentType;
        return contentType.Count == 1 && contentType[0] is { } value
            && value.StartsWith(GrpcContentType, StringComparison.OrdinalIgnoreCase)
            && (value.Length == GrpcContentType.Length || value[GrpcContentType.Length] is '+' or ';' or '-');
    }

    /// <summary>
    /// The gRPC status of an edge denial: 401 → 16 UNAUTHENTICATED, 403 → 7 PERMISSION_DENIED, 429 → 8 RESOURCE_EXHAUSTED,
    /// 502/503/504 → 14 UNAVAILABLE, 404 → 12 UNIMPLEMENTED (no route: as a server answers an unknown method),
    /// 400 → 3 INVALID_ARGUMENT, 431 → 8 RESOURCE_EXHAUSTED (metadata over the limit), 500 → 13 INTERNAL, else 2 UNKNOWN.
    /// Constant strings: nothing is formatted per denial.
    /// </summary>
    public static string StatusFor(int httpStatus) => httpStatus switch
    {
        StatusCodes.Status401Unauthorized => "16",
        StatusCodes.Status403Forbidden => "7",
        StatusCodes.Status429TooManyRequests or StatusCodes.Status431RequestHeaderFieldsTooLarge => "8",
        StatusCodes.Status502BadGateway or StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout => "14",
        StatusCodes.Status404NotFound => "12",
        StatusCodes.Status400BadRequest => "3",
        StatusCodes.Status500InternalServerError => "13",
        _ => "2",
    };

    /// <summary>
    /// <c>grpc-message</c> is percent-encoded (gRPC over HTTP/2: every byte outside 0x20–0x7E, and '%'). The edge's
    /// codes are lower-case ASCII, so this returns the cached code itself; anything else is encoded (never on a hot path).
    /// </summary>
    public static string MessageFor(string code)
    {
        foreach (var c in code)
        {
            if (c is < ' ' or > '~' or '%')
            {
                return Encode(code);
            }
        }
        return code;
    }

    private static string Encode(string value)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(value);
        var builder = new System.Text.StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b is < 0x20 or > 0x7E or (byte)'%')
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append((char)b);
            }
        }
        return builder.ToString();
    }

    /// <summary>
    /// Turns the response into the trailers-only gRPC status of <paramref name="error"/> (called by
    /// <c>EdgeResponses</c>, which also sets <c>www-authenticate</c> and <c>retry-after</c>). A 429's
    /// <paramref name="retryAfterSeconds"/> also goes out as <c>grpc-retry-pushback-ms</c>.
    /// </summary>
    public static void SetStatus(HttpContext context, EdgeError error, long retryAfterSeconds)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ResponseContentType(context.Request);
        var headers = response.Headers;
        headers[StatusHeader] = StatusFor(error.Status);
        headers[MessageHeader] = MessageFor(error.Code);
        if (retryAfterSeconds > 0)
        {
            headers[RetryPushbackHeader] = retryAfterSeconds < Milliseconds.Length ? Milliseconds[(int)retryAfterSeconds]
                : (retryAfterSeconds * 1000L).ToString(CultureInfo.InvariantCulture);
        }
    }

    private static string ResponseContentType(HttpRequest request)
    {
        var value = request.Headers.ContentType[0].AsSpan();
        if (value.StartsWith(GrpcWebTextContentType, StringComparison.OrdinalIgnoreCase))
        {
            return GrpcWebTextContentType;
        }
        return value.StartsWith(GrpcWebContentType, StringComparison.OrdinalIgnoreCase) ? GrpcWebContentType : GrpcContentType;
    }

    private static readonly string[] Milliseconds = ["0", "1000", "2000", "3000", "4000", "5000", "6000", "7000", "8000", "9000", "10000"];
}
