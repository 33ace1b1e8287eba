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
}
