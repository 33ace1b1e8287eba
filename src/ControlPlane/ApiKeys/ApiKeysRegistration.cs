namespace Authio.ControlPlane.ApiKeys;

internal static class ApiKeysRegistration
{
    /// <summary>The admin API for keys and scopes, and what edges ask: their own key, lookups by digest, usage reports.</summary>
    public static IServiceCollection AddApiKeys(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<ApiKeyScopes>();
        services.AddSingleton<ApiKeyAdminService>();
        services.AddSingleton<ApiKeyLookupService>();
        services.AddSingleton<EdgeKeyFilter>();
        return services;
    }
}
