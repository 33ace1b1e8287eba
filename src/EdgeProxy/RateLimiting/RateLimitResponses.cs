using System.Globalization;
using Authio.EdgeProxy.Errors;
using Microsoft.Net.Http.Headers;

namespace Authio.EdgeProxy.RateLimiting;

internal static class RateLimitResponses
{
    /// <summary>
    /// The 429 of a rate-limited request: the cached problem+json body of <see cref="EdgeError.RateLimited"/> with the
    /// real Retry-After (the RateLimit headers were already set by <see cref="RateLimiter.Admit"/>).
    /// </summary>
    public static Task WriteAsync(HttpContext context, in RateLimitDecision decision)
    {
        var error = EdgeError.RateLimited;
        if (Grpc.GrpcResponses.IsGrpc(context.Request))
        {
            return Grpc.GrpcResponses.WriteAsync(context, error, Math.Max(1L, decision.RetryAfterSeconds));
        }
        var response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = "application/problem+json";
        response.ContentLength = error.Body.Length;
        response.Headers[HeaderNames.CacheControl] = "no-store";
        response.Headers[HeaderNames.RetryAfter] = decision.RetryAfterSeconds <= 9 ? Digits[decision.RetryAfterSeconds]
            : decision.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return response.Body.WriteAsync(error.Body).AsTask();
    }

    private static readonly string[] Digits = ["1", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
}
