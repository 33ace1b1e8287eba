using System.Globalization;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Grpc;
using Authio.EdgeProxy.RateLimiting;
using Microsoft.Net.Http.Headers;

namespace Authio.EdgeProxy.Pipeline;

/// <summary>
/// The one writer of the edge's own answers: every refusal of every stage (request hygiene, routing, authentication,
/// authorization, rate limits, a full WebSocket registry) and every failed forward. It decides the format: a
/// trailers-only <c>grpc-status</c> for gRPC callers (<see cref="GrpcResponses"/>), else the error's cached,
/// pre-serialized problem+json body. A 429 always says when to retry (<c>Retry-After</c>, at least 1 s), and so does a
/// credential that could not be checked right now (<see cref="EdgeError.RetryAfterSeconds"/>). Nothing is
/// serialized or formatted per answer: 0 B (GrpcDenialAllocationTests, DenialBenchmarks).
/// </summary>
internal static class EdgeResponses
{
    private const string ProblemJson = "application/problem+json";

    /// <summary>Writes <paramref name="error"/> (a 429 other than a rate limit's says "retry after 1 s").</summary>
    public static Task WriteAsync(HttpContext context, EdgeError error) => WriteAsync(context, error, retryAfterSeconds: 0);

    /// <summary>The 429 of a refused rate-limit check (its RateLimit headers are already set), with its real Retry-After.</summary>
    public static Task WriteAsync(HttpContext context, in RateLimitDecision decision) =>
        WriteAsync(context, EdgeError.RateLimited, decision.RetryAfterSeconds);

    /// <summary>Writes <paramref name="error"/>; <paramref name="retryAfterSeconds"/> counts for a 429 only (others carry their own, if any).</summary>
    public static Task WriteAsync(HttpContext context, EdgeError error, long retryAfterSeconds)
    {
        var response = context.Response;
        if (error.WwwAuthenticate is not null)
        {
            response.Headers[HeaderNames.WWWAuthenticate] = error.WwwAuthenticate;
        }
        retryAfterSeconds = error.Status == StatusCodes.Status429TooManyRequests ? Math.Max(1L, retryAfterSeconds) : error.RetryAfterSeconds;
        if (retryAfterSeconds > 0)
        {
            response.Headers[HeaderNames.RetryAfter] = Seconds(retryAfterSeconds);
        }
        if (GrpcResponses.IsGrpc(context.Request))
        {
            GrpcResponses.SetStatus(context, error, retryAfterSeconds);
            return Task.CompletedTask; // no body: Kestrel ends the stream with the headers (trailers-only)
        }
        response.StatusCode = error.Status;
        response.ContentType = ProblemJson;
        response.ContentLength = error.Body.Length;
        response.Headers[HeaderNames.CacheControl] = "no-store";
        return response.Body.WriteAsync(error.Body).AsTask();
    }

    /// <summary>A whole number of seconds as header text, cached for the common small values.</summary>
    internal static string Seconds(long seconds) =>
        seconds >= 0 && seconds < CachedSeconds.Length ? CachedSeconds[seconds] : seconds.ToString(CultureInfo.InvariantCulture);

    private static readonly string[] CachedSeconds = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];
}
