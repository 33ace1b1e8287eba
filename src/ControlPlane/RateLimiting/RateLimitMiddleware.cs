using Authio.ControlPlane.Api;
using Authio.ControlPlane.Diagnostics;

namespace Authio.ControlPlane.RateLimiting;

/// <summary>Endpoint metadata: the endpoint's per-IP limit is <see cref="Action"/>'s.</summary>
internal sealed record RateLimitedEndpoint(LimitedAction Action);

internal static class RateLimitEndpoints
{
    /// <summary>Applies <paramref name="action"/>'s per-IP limit before the request body is even read.</summary>
    public static TBuilder RequireAuthRateLimit<TBuilder>(this TBuilder builder, LimitedAction action) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RateLimitedEndpoint(action));

    /// <summary>The 429 for a refused request. Says nothing about the account, so it cannot tell whether one exists.</summary>
    public static Failure Refused(LimitedAction action, RateLimitVerdict verdict)
    {
        var seconds = verdict.RetryAfterSeconds;
        var what = action switch
        {
            LimitedAction.SignIn => "sign-in attempts",
            LimitedAction.Refresh => "token refreshes",
            LimitedAction.Password => "password change attempts",
            _ => "requests",
        };
        return Failure.TooManyRequests($"Too many {what}. Try again in {seconds} seconds.", seconds);
    }
}

/// <summary>
/// The per-IP half of the credential endpoints' limits, before model binding and authentication so a refusal costs
/// next to nothing. The per-account half needs the body (or the token's owner) and runs in the services.
/// </summary>
internal sealed class RateLimitMiddleware(RequestDelegate next, AuthRateLimiter limiter, ControlPlaneMetrics metrics)
{
    public async Task InvokeAsync(HttpContext http)
    {
        if (ActionOf(http.GetEndpoint()) is { } action)
        {
            var verdict = await limiter.CheckIpAsync(action, http.Connection.RemoteIpAddress, http.RequestAborted);
            if (!verdict.Admitted)
            {
                // Counted like the per-account refusals in the services: one rate_limited outcome, whichever half refused.
                if (action == LimitedAction.SignIn)
                {
                    metrics.SignIn(SignInOutcomes.RateLimited);
                }
                else if (action == LimitedAction.Refresh)
                {
                    metrics.Refresh(RefreshOutcomes.RateLimited);
                }

                await RateLimitEndpoints.Refused(action, verdict).ExecuteAsync(http);
                return;
            }
        }
        await next(http);
    }

    private static LimitedAction? ActionOf(Endpoint? endpoint)
    {
        return endpoint?.Metadata.GetMetadata<RateLimitedEndpoint>()?.Action;
    }
}
