using Authio.EdgeProxy.Configuration;

namespace Authio.EdgeProxy.Fleet;

internal static class FleetServices
{
    /// <summary>
    /// Fleet status (<c>Edge:Fleet</c>): per-route latency recorders fed from the request metrics, and the reporter that
    /// sends them with the feed position to the control plane. Only with a control plane and <c>Edge:Fleet:Enabled</c>.
    /// </summary>
    public static IServiceCollection AddEdgeFleet(this IServiceCollection services, EdgeOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ControlPlane.Url) || !options.Fleet.Enabled)
        {
            return services;
        }
        services.AddSingleton<RouteRecorders>();
        services.AddSingleton<FleetReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<FleetReporter>());
        return services;
    }
}
