using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.RateLimiting;
using Authio.ControlPlane.Sessions;

namespace Authio.ControlPlane.Auth;

/// <summary>A token response for a browser: the refresh token went into an HttpOnly cookie instead of the body.</summary>
internal sealed record CookieTokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn)
{
    /// <summary>True when the org requires MFA of this user and they have none: the session is limited to enrolment.</summary>
    [JsonPropertyName("mfa_enrollment_required"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? MfaEnrollmentRequired { get; init; }
}

/// <summary>
/// Sign-in, refresh and sign-out for browsers (the admin console): the same services as <c>/v1/auth/login</c> and
/// <c>/v1/auth/refresh</c>, with the refresh token kept in <see cref="RefreshCookie"/> instead of the page's memory or
/// storage. Every endpoint that reads the cookie checks CSRF; sign-in checks that the request is same-origin.
/// </summary>
internal static class CookieSessionEndpoints
{
    public static void MapCookieSessionEndpoints(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup(RefreshCookie.Path).WithTags("Auth")
            .AddEndpointFilter(async (ctx, next) =>
            {
                ctx.HttpContext.Response.Headers.CacheControl = "no-store";
                return await next(ctx);
            });
        g.MapPost("/login", async (LoginRequest body, LoginService login, ControlPlaneOptions options, HttpContext http) =>
            {
                if (!RefreshCookie.SameOrigin(http.Request, requireToken: false))
                {
                    return CrossSite();
                }

                var result = await login.LoginAsync(body.Email, body.Password, body.OrgId, ClientInfo.From(http), http.RequestAborted);
                // A second factor follows: no cookie yet; POST /v1/auth/cookie/mfa completes the sign-in and sets it.
                return result.ToResult(r => r.Mfa is { } pending ? Results.Ok(Mfa.MfaRequiredResponse.From(pending)) : Issue(http, r.Tokens!, options, r.EnrollmentRequired));
            })
            .RequireAuthRateLimit(LimitedAction.SignIn).Produces<CookieTokenResponse>().ProducesProblem(423)
            .WithSummary("Sign in from a browser: the refresh token is set as an HttpOnly cookie");
        g.MapPost("/refresh", async (SessionService sessions, ControlPlaneOptions options, HttpContext http) =>
            {
                if (!RefreshCookie.SameOrigin(http.Request, requireToken: true))
                {
                    return CrossSite();
                }

                var token = http.Request.Cookies[RefreshCookie.Name];
                if (string.IsNullOrEmpty(token) || token.Length > Bounds.MaxTokenLength)
                {
                    return Failure.Unauthorized("No refresh cookie: sign in again.");
                }

                var result = await sessions.RefreshAsync(token, ClientInfo.From(http), http.RequestAborted);
                if (result.Error is not null)
                {
                    // A dead refresh token is of no further use to the browser.
                    RefreshCookie.Clear(http.Response);
                }

                return result.ToResult(p => Issue(http, p, options));
            })
            .RequireAuthRateLimit(LimitedAction.Refresh).Produces<CookieTokenResponse>()
            .WithSummary("Rotate the refresh cookie for a new access token (needs the X-CSRF-Token header)");
        g.MapPost("/logout", (HttpContext http) =>
            {
                if (!RefreshCookie.SameOrigin(http.Request, requireToken: true))
                {
                    return CrossSite();
                }

                RefreshCookie.Clear(http.Response);
                return Results.NoContent();
            })
            .Produces(204).WithSummary("Clear the refresh cookie (end the session itself with POST /v1/auth/logout first)");
    }

    /// <summary>Sets the refresh cookie and answers with the access token (also for the MFA and passkey sign-ins).</summary>
    internal static IResult Issue(HttpContext http, TokenPair pair, ControlPlaneOptions options, bool enrollmentRequired = false)
    {
        RefreshCookie.Set(http.Response, pair.RefreshToken, options.Tokens.RefreshTokenTtl);
        return Results.Ok(new CookieTokenResponse(pair.AccessToken, "Bearer", pair.ExpiresIn) { MfaEnrollmentRequired = enrollmentRequired ? true : null });
    }

    internal static Failure CrossSite() =>
        Failure.Forbidden("Cross-site request refused: send the X-CSRF-Token header with the value of the __Host-authio-csrf cookie.");
}
