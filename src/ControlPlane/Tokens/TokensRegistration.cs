namespace Authio.ControlPlane.Tokens;

internal static class TokensRegistration
{
    /// <summary>Issuing access tokens with the org's active key, and validating them against the published keys.</summary>
    public static IServiceCollection AddTokens(this IServiceCollection services)
    {
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<AccessTokenValidator>();
        return services;
    }
}
