using Authio.EdgeProxy.Configuration;

namespace Authio.EdgeProxy.Sync;

internal static class EdgeSyncServices
{
    public static void Add(IServiceCollection services, EdgeOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ControlPlane.Url) || !options.ControlPlane.Sync)
        {
            return;
        }
        services.AddSingleton<EdgeSyncClient>();
        services.AddHostedService(sp => sp.GetRequiredService<EdgeSyncClient>());
    }
}
