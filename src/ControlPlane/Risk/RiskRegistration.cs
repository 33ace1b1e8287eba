namespace Authio.ControlPlane.Risk;

internal static class RiskRegistration
{
    /// <summary>Suspicious sign-in detection and the per-user sign-in history it compares with.</summary>
    public static IServiceCollection AddRisk(this IServiceCollection services, Hosting.ControlPlaneOptions options)
    {
        if (options.Risk.LocationCsv is { Length: > 0 } blocks)
        {
            // Read now: a file that cannot be read stops start-up naming the key.
            services.AddSingleton(LocationTable.Load(blocks, options.Risk.LocationNamesCsv, "ControlPlane:Risk:LocationCsv"));
        }

        services.AddSingleton<SignInHistoryStore>();
        services.AddSingleton<SignInRisk>();
        return services;
    }
}
