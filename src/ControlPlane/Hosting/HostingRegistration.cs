namespace Authio.ControlPlane.Hosting;

internal static class HostingRegistration
{
    /// <summary>The validated options every feature reads, and the clock every feature asks (tests replace it).</summary>
    public static IServiceCollection AddControlPlaneOptions(this IServiceCollection services, ControlPlaneOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        return services;
    }

    /// <summary>
    /// The periodic upkeep (<see cref="MaintenanceService"/>); its loop does nothing with <c>Jobs:Enabled=false</c>,
    /// but a round can still be run on demand (tests).
    /// </summary>
    public static IServiceCollection AddMaintenance(this IServiceCollection services)
    {
        services.AddSingleton<MaintenanceRoundStore>();
        services.AddSingleton<MaintenanceService>();
        services.AddHostedService(sp => sp.GetRequiredService<MaintenanceService>());
        return services;
    }
}
