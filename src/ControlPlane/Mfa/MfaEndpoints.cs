using Authio.ControlPlane.Api;
using Authio.ControlPlane.Auth;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.RateLimiting;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Mfa;

internal static class MfaEndpoints
{
    private static readonly string[] FactorCodes =
        [ErrorCodes.MfaCodeInvalid, ErrorCodes.MfaCodeReplayed, ErrorCodes.MfaRecoveryCodeUsed];

    public static void MapMfaEndpoints(this IEndpointRouteBuilder root, RouteGroupBuilder v1)
    {
        var auth = root.MapGroup("/v1/auth").WithTags("Auth")
            .AddEndpointFilter(async (ctx, next) =>
            {
                // Token responses must never be cached by browsers or proxies.
                ctx.HttpContext.Response.Headers.CacheControl = "no-store";
                return await next(ctx);
            });
        auth.MapPost("/mfa", async (MfaCompleteRequest body, MfaSignIn mfa, HttpContext http) =>
                (await mfa.CompleteAsync(body.MfaToken, body.Proof, ClientInfo.From(http), http.RequestAborted))
                    .ToResult(s => Results.Ok(TokenResponse.From(s.Tokens))))
            .RequireAuthRateLimit(LimitedAction.SignIn).Produces<TokenResponse>().ProducesProblem(423)
            .ProducesCodes(401, [ErrorCodes.MfaTokenInvalid, ErrorCodes.MfaTokenExpired, .. FactorCodes]).ProducesCodes(400, ErrorCodes.MfaMethodUnavailable)
            .WithSummary("Second step of sign-in: {mfa_token, method: totp|recovery_code|passkey, code | challenge_id + assertion} → tokens");
        auth.MapPost("/mfa/passkey/options", async (MfaTokenRequest body, MfaSignIn mfa, HttpContext http) =>
                (await mfa.PasskeyOptionsForTokenAsync(body.MfaToken, ClientInfo.From(http), http.RequestAborted)).ToResult(c => Results.Ok(PasskeyAssertionOptionsView.From(c))))
            .RequireAuthRateLimit(LimitedAction.SignIn).Produces<PasskeyAssertionOptionsView>().ProducesProblem(404)
            .ProducesCodes(401, ErrorCodes.MfaTokenInvalid, ErrorCodes.MfaTokenExpired)
            .WithSummary("Passkey as the second factor: assertion options for the mfa_token's user (navigator.credentials.get)");
        auth.MapPost("/passkey/options", async (MfaSignIn mfa, HttpContext http) =>
                (await mfa.PasskeyOptionsAsync(http.RequestAborted)).ToResult(c => Results.Ok(PasskeyAssertionOptionsView.From(c))))
            .RequireAuthRateLimit(LimitedAction.SignIn).Produces<PasskeyAssertionOptionsView>().ProducesProblem(404)
            .WithSummary("Passkey sign-in, step one: a challenge for a discoverable credential (404 when passkeys are not enabled)");
        auth.MapPost("/passkey/login", async (PasskeyLoginRequest body, MfaSignIn mfa, HttpContext http) =>
                (await mfa.PasskeyLoginAsync(body.ChallengeId, body.Assertion, body.OrgId, ClientInfo.From(http), http.RequestAborted))
                    .ToResult(s => Results.Ok(TokenResponse.From(s.Tokens))))
            .RequireAuthRateLimit(LimitedAction.SignIn).Produces<TokenResponse>().ProducesProblem(404)
            .WithSummary("Passkey sign-in, step two: the assertion → tokens (acr urn:authio:acr:phr)");

        var cookie = root.MapGroup(RefreshCookie.Path).WithTags("Auth")
            .AddEndpointFilter(async (ctx, next) =>
            {
                ctx.HttpContext.Response.Headers.CacheControl = "no-store";
                return RefreshCookie.SameOrigin(ctx.HttpContext.Request, requireToken: false) ? await next(ctx) : CookieSessionEndpoints.CrossSite();
            });
        cookie.MapPost("/mfa", async (MfaCompleteRequest body, MfaSignIn mfa, ControlPlaneOptions options, HttpContext http) =>
                (await mfa.CompleteAsync(body.MfaToken, body.Proof, ClientInfo.From(http), http.RequestAborted))
                    .ToResult(s => CookieSessionEndpoints.Issue(http, s.Tokens, options)))
            .RequireAuthRateLimit(LimitedAction.SignIn).Produces<CookieTokenResponse>().ProducesProblem(423)
            .ProducesCodes(401, [ErrorCodes.MfaTokenInvalid, ErrorCodes.MfaTokenExpired, .. FactorCodes])
            .WithSummary("Second step of a browser sign-in: like POST /v1/auth/mfa, the refresh token is set as an HttpOnly cookie");
        cookie.MapPost("/passkey/login", async (PasskeyLoginRequest body, MfaSignIn mfa, ControlPlaneOptions options, HttpContext http) =>
                (await mfa.PasskeyLoginAsync(body.ChallengeId, body.Assertion, body.OrgId, ClientInfo.From(http), http.RequestAborted))
                    .ToResult(s => CookieSessionEndpoints.Issue(http, s.Tokens, options)))
            .RequireAuthRateLimit(LimitedAction.SignIn).Produces<CookieTokenResponse>().ProducesProblem(404)
            .WithSummary("Passkey sign-in from a browser: the refresh token is set as an HttpOnly cookie");

        v1.MapPost("/auth/step-up", async (MfaFactorRequest body, MfaSignIn mfa, HttpContext http) =>
                (await mfa.StepUpAsync(Caller.Of(http), body.Proof, http.RequestAborted)).ToResult(Results.Ok))
            .WithTags("Auth").RequireAuthRateLimit(LimitedAction.SignIn).AllowDuringMfaEnrollment().Produces<StepUpView>().ProducesProblem(423)
            .ProducesCodes(401, FactorCodes).ProducesCodes(400, ErrorCodes.MfaMethodUnavailable)
            .WithSummary("Raise the session with a second factor or passkey: a new access token with a fresh auth_time and the higher acr");
        v1.MapPost("/auth/step-up/passkey/options", async (MfaSignIn mfa, HttpContext http) =>
                (await mfa.StepUpPasskeyOptionsAsync(Caller.Of(http), http.RequestAborted)).ToResult(c => Results.Ok(PasskeyAssertionOptionsView.From(c))))
            .WithTags("Auth").AllowDuringMfaEnrollment().Produces<PasskeyAssertionOptionsView>().ProducesProblem(404)
            .WithSummary("Assertion options for a passkey step-up (the caller's credentials)");

        var me = v1.MapGroup("/users/me/mfa").WithTags("MFA");
        me.MapGet("/", async (MfaService mfa, HttpContext http) => Results.Ok(await mfa.StatusAsync(Caller.Of(http), http.RequestAborted)))
            .AllowDuringMfaEnrollment().Produces<MfaStatusView>().WithSummary("The caller's second factors and the org's policy");
        me.MapPost("/totp", async (MfaService mfa, HttpContext http) =>
            {
                http.Response.Headers.CacheControl = "no-store";
                return (await mfa.EnrolTotpAsync(Caller.Of(http), http.RequestAborted)).ToResult(Results.Ok);
            })
            .AllowDuringMfaEnrollment().Produces<TotpEnrollmentView>().ProducesProblem(409)
            .WithSummary("Start TOTP enrolment: secret, otpauth:// URI and QR code (SVG and PNG); confirm with POST .../totp/confirm");
        me.MapPost("/totp/confirm", async (TotpCodeRequest body, MfaService mfa, HttpContext http) =>
            {
                http.Response.Headers.CacheControl = "no-store";
                return (await mfa.ConfirmTotpAsync(Caller.Of(http), body.Code, http.RequestAborted)).ToResult(Results.Ok);
            })
            .RequireAuthRateLimit(LimitedAction.SignIn).AllowDuringMfaEnrollment().Produces<TotpConfirmationView>().ProducesProblem(409)
            .ProducesCodes(400, ErrorCodes.MfaCodeInvalid)
            .WithSummary("Confirm TOTP with a first valid code: the 10 recovery codes (shown once) and an access token raised to MFA");
        me.MapDelete("/totp", async (MfaService mfa, HttpContext http) =>
                await mfa.RemoveTotpAsync(Caller.Of(http), http.RequestAborted) ?? Results.NoContent())
            .RequireStepUp("mfa.totp_remove", alwaysMfa: true).Produces(204).ProducesProblem(404)
            .WithSummary("Remove the authenticator and the recovery codes (needs a recent MFA sign-in)");
        me.MapPost("/recovery-codes", async (MfaService mfa, HttpContext http) =>
            {
                http.Response.Headers.CacheControl = "no-store";
                return (await mfa.RegenerateRecoveryCodesAsync(Caller.Of(http), http.RequestAborted)).ToResult(Results.Ok);
            })
            .RequireStepUp("mfa.recovery_codes_regenerate", alwaysMfa: true).Produces<RecoveryCodesView>().ProducesProblem(409)
            .WithSummary("Replace the recovery codes with 10 new ones (the old set stops working; needs a recent MFA sign-in)");
    }
}
