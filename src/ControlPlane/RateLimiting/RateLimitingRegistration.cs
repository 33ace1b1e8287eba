namespace Authio.ControlPlane.RateLimiting;

internal static class RateLimitingRegistration
{
    /// <summary>
    /// The per-address and per-account limits of the credential endpoints. With <c>RateLimits:Enabled=false</c> (or a
    /// rule <c>off</c>) the limiter is still registered and admits everything.
    /// </summary>
    public static IServiceCollection AddRateLimiting(this IServiceCollection services)
    {
        services.AddSingleton<AuthRateLimiter>();
        return services;
    }
}
