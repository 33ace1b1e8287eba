using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Mfa;
using Authio.ControlPlane.RateLimiting;
using Authio.ControlPlane.Sessions;

namespace Authio.ControlPlane.Auth;

internal sealed record LoginRequest(
    [property: Required, StringLength(Bounds.MaxEmailLength)] string? Email,
    [property: Required, StringLength(Bounds.MaxPresentedPasswordLength)] string? Password,
    [property: JsonPropertyName("org_id"), StringLength(Bounds.MaxIdLength)] string? OrgId = null);
internal sealed record RefreshRequest([property: JsonPropertyName("refresh_token"), Required, StringLength(Bounds.MaxTokenLength)] string? RefreshToken);

internal sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("refresh_token")] string RefreshToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn)
{
    /// <summary>True when the org requires MFA of this user and they have none: the session is limited to enrolment.</summary>
    [JsonPropertyName("mfa_enrollment_required"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? MfaEnrollmentRequired { get; init; }

    public static TokenResponse From(TokenPair p) => new(p.AccessToken, p.RefreshToken, "Bearer", p.ExpiresIn);

    /// <summary>The password step's answer: tokens, or the first step of a two-step sign-in.</summary>
    public static IResult From(SignInResult r) => r.Mfa is { } pending
        ? Results.Ok(Mfa.MfaRequiredResponse.From(pending))
        : Results.Ok(From(r.Tokens!) with { MfaEnrollmentRequired = r.EnrollmentRequired ? true : null });
}

internal static class AuthEndpoints
{
    public static void MapAuthEndpoints(this IEndpointRouteBuilder app, RouteGroupBuilder authenticated)
    {
        var auth = app.MapGroup("/v1/auth").WithTags("Auth")
            .AddEndpointFilter(async (ctx, next) =>
            {
                // Token responses must never be cached by browsers or proxies.
                ctx.HttpContext.Response.Headers.CacheControl = "no-store";
                return await next(ctx);
            });
        auth.MapPost("/login", async (LoginRequest body, LoginService login, HttpContext http) =>
                (await login.LoginAsync(body.Email, body.Password, body.OrgId, ClientInfo.From(http), http.RequestAborted)).ToResult(TokenResponse.From))
            .RequireAuthRateLimit(LimitedAction.SignIn).Produces<TokenResponse>().ProducesProblem(423)
            .WithSummary("Sign in with email and password: tokens, or {mfa_required, mfa_token, methods} when a second factor follows (POST /v1/auth/mfa)");
        auth.MapPost("/refresh", async (RefreshRequest body, SessionService sessions, HttpContext http) =>
                (await sessions.RefreshAsync(body.RefreshToken, ClientInfo.From(http), http.RequestAborted))
                    .ToResult(p => Results.Ok(TokenResponse.From(p))))
            .RequireAuthRateLimit(LimitedAction.Refresh).Produces<TokenResponse>().WithSummary("Rotate a refresh token for a new token pair");
        authenticated.MapPost("/auth/logout", async (SessionService sessions, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                await sessions.EndAsync(caller.OrgId, caller.SessionId, EndReasons.Logout, AuditEvents.Logout, caller.UserId, caller.Client, http.RequestAborted);
                return Results.NoContent();
            })
            .WithTags("Auth").Produces(204).WithSummary("End the caller's session").AllowDuringMfaEnrollment();
    }
}
