using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Revocation;

namespace Authio.EdgeProxy.Redis;

internal static class RedisServices
{
    /// <summary>
    /// Everything the edge keeps in Redis (<c>Edge:Redis</c>), over one shared connection (<see cref="EdgeRedis"/>):
    /// fleet-wide leases for <c>global</c> limits, the exact revocation set (<c>Edge:Revocation:RedisExactSet</c>), the
    /// change feed's stream and the API-key L2 (with <c>Edge:ApiKeys:CacheSigningKey</c>). Without <c>Edge:Redis</c>
    /// nothing is registered and each feature keeps its in-process default.
    /// </summary>
    public static IServiceCollection AddEdgeRedis(this IServiceCollection services, EdgeOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            return services;
        }
        // First among the hosted services: the connection is under way before the sync client and the leases start.
        services.AddSingleton<EdgeRedis>();
        services.AddHostedService(sp => sp.GetRequiredService<EdgeRedis>());

        services.AddSingleton<GlobalLeases>();
        services.AddSingleton<IGlobalLimits>(sp => sp.GetRequiredService<GlobalLeases>());
        services.AddHostedService(sp => sp.GetRequiredService<GlobalLeases>());

        if (options.Revocation.RedisExactSet)
        {
            services.AddSingleton<IRemoteRevocationSet, RedisRevocations>();
        }
        services.AddSingleton<RedisChangeFeed>();
        if (options.ApiKeys.CacheSigningKeyBytes() is not null)
        {
            services.AddSingleton<RedisL2Cache>();
        }
        return services;
    }
}
