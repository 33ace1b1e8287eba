using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Pipeline;
using Authio.EdgeProxy.Policy;
using Microsoft.Net.Http.Headers;

namespace Authio.EdgeProxy.ForwardAuth;

/// <summary>
/// The 200 of an admitted forward-auth check: the identity headers the inline edge would have sent upstream
/// (<see cref="IdentityForwarding"/>), in the response for the proxy to pass on.
/// </summary>
internal static class ForwardAuthAnswer
{
    public static Task WriteAsync(HttpContext context, RoutePolicy policy, EdgeIdentity? identity)
    {
        var response = context.Response;
        if (identity is not null)
        {
            IdentityForwarding.Write(new IdentityForwarding.HeaderDictionarySink(response.Headers), policy, identity);
        }
        response.StatusCode = StatusCodes.Status200OK;
        response.Headers[HeaderNames.CacheControl] = "no-store";
        response.ContentLength = 0;
        return Task.CompletedTask;
    }
}
