namespace Authio.ControlPlane.AdminConsole;

/// <summary>
/// Serves the admin console at <c>/admin</c>: static files only. Everything it shows or changes goes through the
/// public <c>/v1</c> API with the signed-in user's access token, so the console can do nothing a script cannot.
/// </summary>
internal static class ConsoleEndpoints
{
    /// <summary>
    /// No inline script or style, no eval, nothing from another origin, never framed; <c>connect-src 'self'</c> limits
    /// the page's fetches to this origin's API.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'none'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static void MapConsole(this IEndpointRouteBuilder app)
    {
        app.MapGet("/admin/{**path}", (string? path, ConsoleAssets assets, HttpContext http) => Serve(path, assets, http))
            .ExcludeFromDescription();
    }

    private static IResult Serve(string? path, ConsoleAssets assets, HttpContext http)
    {
        if (!http.Request.Path.Value!.EndsWith('/') && string.IsNullOrEmpty(path))
        {
            // /admin → /admin/, so the shell's relative module URLs resolve under /admin/.
            http.Response.Headers.Location = http.Request.PathBase + "/admin/";
            return Results.StatusCode(StatusCodes.Status308PermanentRedirect);
        }

        SetSecurityHeaders(http.Response);
        // Unknown paths under /admin/ that look like a view (no extension) get the shell; its router shows the view.
        var key = string.IsNullOrEmpty(path) || !Path.HasExtension(path) ? "index.html" : path;
        if (!assets.Files.TryGetValue(key, out var asset))
        {
            return Results.NotFound();
        }

        var response = http.Response;
        response.Headers.ETag = asset.ETag;
        // The shell is re-checked every time (a new deploy is seen at once); modules are revalidated by ETag too,
        // since their names carry no content hash.
        response.Headers.CacheControl = "no-cache";
        response.Headers.Vary = "Accept-Encoding";
        if (http.Request.Headers.IfNoneMatch == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        var gzip = http.Request.Headers.AcceptEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase);
        if (gzip)
        {
            response.Headers.ContentEncoding = "gzip";
        }

        return Results.Bytes(gzip ? asset.Gzip : asset.Body, asset.ContentType);
    }

    private static void SetSecurityHeaders(HttpResponse response)
    {
        var h = response.Headers;
        h.ContentSecurityPolicy = ContentSecurityPolicy;
        h["Referrer-Policy"] = "no-referrer";
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Cross-Origin-Opener-Policy"] = "same-origin";
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
    }
}
