using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Keys;

namespace Authio.EdgeProxy.Sync;

internal static class EdgeSyncServices
{
    /// <summary>
    /// Following the control plane's change feed (<c>Edge:ControlPlane:Sync</c>, on whenever a control plane is
    /// configured): snapshot, then changes over HTTP, or from the Redis stream when <c>Edge:Redis</c> is set.
    /// </summary>
    public static IServiceCollection AddEdgeSync(this IServiceCollection services, EdgeOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ControlPlane.Url) || !options.ControlPlane.Sync)
        {
            return services;
        }
        services.AddSingleton<EdgeSyncClient>();
        services.AddHostedService(sp => sp.GetRequiredService<EdgeSyncClient>());
        services.AddSingleton<IUnknownKidCatchUp>(sp => sp.GetRequiredService<EdgeSyncClient>());
        return services;
    }
}
