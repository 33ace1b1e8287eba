using Microsoft.AspNetCore.Http.Features;

namespace Authio.ControlPlane.Api;

/// <summary>
/// Caps every request body at <c>ControlPlane:Limits:MaxRequestBodyBytes</c>: a declared length above it is refused
/// before anything is read (413 <c>payload_too_large</c>), and a chunked body is cut off by Kestrel when it crosses it
/// (the same 413, through the exception handler or the status-code pages).
/// </summary>
internal sealed class BodyLimitMiddleware(RequestDelegate next, Hosting.ControlPlaneOptions options)
{
    public Task InvokeAsync(HttpContext http)
    {
        var limit = options.Limits.MaxRequestBodyBytes;
        if (http.Request.ContentLength > limit)
        {
            // The unread body would otherwise be drained by Kestrel; closing is cheaper for a 10 MB upload.
            http.Response.Headers.Connection = "close";
            return Failure.PayloadTooLarge(limit).ExecuteAsync(http);
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        return next(http);
    }
}
