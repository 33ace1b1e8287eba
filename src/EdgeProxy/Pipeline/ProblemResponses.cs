using Authio.EdgeProxy.Errors;
using Microsoft.Net.Http.Headers;

namespace Authio.EdgeProxy.Pipeline;

internal static class ProblemResponses
{
    private const string ProblemJson = "application/problem+json";

    /// <summary>Writes a cached, pre-serialized problem+json rejection.</summary>
    public static Task WriteAsync(HttpContext context, EdgeError error)
    {
        if (Grpc.GrpcResponses.IsGrpc(context.Request))
        {
            return Grpc.GrpcResponses.WriteAsync(context, error, error.Status == StatusCodes.Status429TooManyRequests ? 1 : 0);
        }
        var response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = ProblemJson;
        response.ContentLength = error.Body.Length;
        response.Headers[HeaderNames.CacheControl] = "no-store";
        if (error.WwwAuthenticate is not null)
        {
            response.Headers[HeaderNames.WWWAuthenticate] = error.WwwAuthenticate;
        }
        if (error.Status == StatusCodes.Status429TooManyRequests)
        {
            response.Headers[HeaderNames.RetryAfter] = "1";
        }
        return response.Body.WriteAsync(error.Body).AsTask();
    }
}
