namespace Authio.ControlPlane.Risk;

internal static class RiskRegistration
{
    /// <summary>Suspicious sign-in detection and the per-user sign-in history it compares with.</summary>
    public static IServiceCollection AddRisk(this IServiceCollection services)
    {
        services.AddSingleton<SignInHistoryStore>();
        services.AddSingleton<SignInRisk>();
        return services;
    }
}
