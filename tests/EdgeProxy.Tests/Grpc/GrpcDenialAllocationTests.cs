using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Pipeline;
using Authio.EdgeProxy.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace Authio.EdgeProxy.Tests.Grpc;

/// <summary>A gRPC denial writes cached strings only: status, message and retry values are never formatted per call.</summary>
public sealed class GrpcDenialAllocationTests
{
    [Fact]
    public void A_grpc_denial_allocates_nothing_once_warm()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.ContentType = "application/grpc+proto";
        var limited = new RateLimitDecision(null!, false, 0, 7, 7);
        void Deny()
        {
            context.Response.Headers.Clear();
            _ = EdgeResponses.WriteAsync(context, EdgeError.Expired);
            context.Response.Headers.Clear();
            _ = EdgeResponses.WriteAsync(context, EdgeError.TooManyFailures);
            context.Response.Headers.Clear();
            _ = EdgeResponses.WriteAsync(context, limited);
        }
        Deny();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Deny();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        Assert.Equal("8", context.Response.Headers["grpc-status"]);
        Assert.Equal("rate_limit_exceeded", context.Response.Headers["grpc-message"]);
        Assert.Equal("7", context.Response.Headers.RetryAfter);
        Assert.Equal("7000", context.Response.Headers["grpc-retry-pushback-ms"]);
        Assert.Equal("application/grpc", context.Response.ContentType);
    }

    [Fact]
    public void A_credential_that_could_not_be_checked_tells_grpc_and_http_callers_to_retry()
    {
        var grpc = new DefaultHttpContext();
        grpc.Request.Headers.ContentType = "application/grpc";
        _ = EdgeResponses.WriteAsync(grpc, EdgeError.RevocationUnavailable);
        Assert.Equal("16", grpc.Response.Headers["grpc-status"]);
        Assert.Equal("verification_unavailable", grpc.Response.Headers["grpc-message"]);
        Assert.Equal("1", grpc.Response.Headers.RetryAfter);
        Assert.Equal("1000", grpc.Response.Headers["grpc-retry-pushback-ms"]);

        var http = new DefaultHttpContext();
        _ = EdgeResponses.WriteAsync(http, EdgeProxy.ApiKeys.ApiKeyAuthenticator.CannotVerify);
        Assert.Equal(StatusCodes.Status401Unauthorized, http.Response.StatusCode);
        Assert.Equal("1", http.Response.Headers.RetryAfter);
        Assert.Equal("Bearer", http.Response.Headers.WWWAuthenticate);

        // A verdict on the credential carries no Retry-After: retrying the same token would not help.
        var refused = new DefaultHttpContext();
        _ = EdgeResponses.WriteAsync(refused, EdgeError.BadSignature);
        Assert.Equal(0, refused.Response.Headers.RetryAfter.Count);
    }
}
