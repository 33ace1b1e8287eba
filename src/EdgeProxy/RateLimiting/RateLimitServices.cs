using Authio.EdgeProxy.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Authio.EdgeProxy.RateLimiting;

internal static class RateLimitServices
{
    /// <summary>
    /// Request rate limits (<c>Edge:RateLimits</c>): the bucket table, org limits (filled by edge sync) and the limiter.
    /// Global limits run on this edge's share unless <see cref="Redis.RedisServices.AddEdgeRedis"/> registered fleet leases.
    /// </summary>
    public static IServiceCollection AddEdgeRateLimiting(this IServiceCollection services, EdgeOptions options)
    {
        services.AddSingleton(new BucketTable(options.RateLimits.Capacity, options.FailureBudget.Ipv6Prefix));
        services.TryAddSingleton<InMemoryOrgRateLimits>();
        services.TryAddSingleton<IOrgRateLimits>(sp => sp.GetRequiredService<InMemoryOrgRateLimits>());
        services.TryAddSingleton<IGlobalLimits, LocalShareLimits>();
        services.AddSingleton<RateLimiter>();
        return services;
    }
}
