namespace Authio.ControlPlane.Orgs;

internal static class OrgsRegistration
{
    /// <summary>Orgs and their settings and edge rate limits, platform operators, and the first-start bootstrap.</summary>
    public static IServiceCollection AddOrgs(this IServiceCollection services)
    {
        services.AddSingleton<OrgStore>();
        services.AddSingleton<OrgService>();
        services.AddSingleton<OrgRateLimitService>();
        services.AddSingleton<PlatformOperators>();
        services.AddSingleton<OperatorFilter>();
        services.AddSingleton<Bootstrap>();
        return services;
    }
}
