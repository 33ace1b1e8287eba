using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.EdgeSync;

internal static class EdgeSyncRegistration
{
    /// <summary>
    /// The edge change log, its feed signer and the snapshot/changes service; with <c>ControlPlane:Redis</c> also the
    /// publisher that mirrors the log into Redis. Without Redis nothing depends on a publisher: none is registered.
    /// </summary>
    public static IServiceCollection AddEdgeSync(this IServiceCollection services, ControlPlaneOptions options)
    {
        services.AddSingleton<EdgeChangeStore>();
        services.AddSingleton<EdgeFeedSigner>();
        services.AddSingleton<EdgeSyncService>();
        if (!string.IsNullOrWhiteSpace(options.Redis))
        {
            services.AddHostedService<RedisChangePublisher>();
        }
        return services;
    }
}
