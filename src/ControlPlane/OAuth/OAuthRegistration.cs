namespace Authio.ControlPlane.OAuth;

internal static class OAuthRegistration
{
    /// <summary>Token revocation (RFC 7009) and introspection (RFC 7662).</summary>
    public static IServiceCollection AddOAuth(this IServiceCollection services)
    {
        services.AddSingleton<OAuthStore>();
        services.AddSingleton<OAuthTokenService>();
        return services;
    }
}
