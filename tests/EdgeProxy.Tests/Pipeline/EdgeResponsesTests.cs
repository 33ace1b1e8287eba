using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Authio.EdgeProxy.Tests.Pipeline;

/// <summary>What the edge's one answer writer puts on a refusal, for HTTP and gRPC callers.</summary>
public sealed class EdgeResponsesTests
{
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
        _ = EdgeResponses.WriteAsync(http, ApiKeyAuthenticator.CannotVerify);
        Assert.Equal(StatusCodes.Status401Unauthorized, http.Response.StatusCode);
        Assert.Equal("1", http.Response.Headers.RetryAfter);
        Assert.Equal("Bearer", http.Response.Headers.WWWAuthenticate);

        // A verdict on the credential carries no Retry-After: retrying the same token would not help.
        var refused = new DefaultHttpContext();
        _ = EdgeResponses.WriteAsync(refused, EdgeError.BadSignature);
        Assert.Equal(0, refused.Response.Headers.RetryAfter.Count);
    }
}
