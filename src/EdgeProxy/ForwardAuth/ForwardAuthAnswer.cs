using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Policy;
using Authio.Shared.Tokens;
using Microsoft.Net.Http.Headers;

namespace Authio.EdgeProxy.ForwardAuth;

/// <summary>
/// The 200 of an admitted forward-auth check: the identity headers the inline edge would have sent upstream (already
/// set on the request by the identity stage), copied to the response for the proxy to pass on.
/// </summary>
internal static class ForwardAuthAnswer
{
    private static readonly string[] IdentityHeaderNames =
    [
        IdentityHeaders.Subject, IdentityHeaders.KeyId, IdentityHeaders.Scopes, IdentityHeaders.AuthType, IdentityHeaders.Org,
        IdentityHeaders.Session, IdentityHeaders.TokenId,
    ];

    public static Task WriteAsync(HttpContext context, RoutePolicy policy, EdgeIdentity? identity)
    {
        var request = context.Request.Headers;
        var response = context.Response;
        if (identity is not null)
        {
            foreach (var name in IdentityHeaderNames)
            {
                Copy(request, response.Headers, name);
            }
            foreach (var header in policy.ClaimHeaders)
            {
                Copy(request, response.Headers, header.Header);
            }
        }
        response.StatusCode = StatusCodes.Status200OK;
        response.Headers[HeaderNames.CacheControl] = "no-store";
        response.ContentLength = 0;
        return Task.CompletedTask;
    }

    private static void Copy(IHeaderDictionary from, IHeaderDictionary to, string name)
    {
        if (from.TryGetValue(name, out var value))
        {
            to[name] = value;
        }
    }
}
