namespace Authio.ControlPlane.Fleet;

internal static class FleetRegistration
{
    /// <summary>Edges' status reports (<c>edges</c> table), the operator's fleet view and its gauges.</summary>
    public static IServiceCollection AddFleet(this IServiceCollection services)
    {
        services.AddSingleton<FleetStore>();
        services.AddSingleton<FleetMetrics>();
        services.AddSingleton<FleetService>();
        services.AddSingleton<FleetSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<FleetSampler>());
        return services;
    }
}
