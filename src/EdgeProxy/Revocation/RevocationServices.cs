using Authio.EdgeProxy.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Authio.EdgeProxy.Revocation;

internal static class RevocationServices
{
    /// <summary>
    /// The revocation stage (<c>Edge:Revocation</c>): the bloom filter and exact tail, filled by edge sync. Bloom
    /// positives are settled in Redis when <see cref="Redis.RedisServices.AddEdgeRedis"/> registered the exact set.
    /// </summary>
    public static IServiceCollection AddEdgeRevocation(this IServiceCollection services, EdgeOptions options)
    {
        services.AddSingleton(options.Revocation);
        services.TryAddSingleton<IRemoteRevocationSet>(NoRemoteRevocations.Instance);
        services.AddSingleton<RevocationStage>();
        services.TryAddSingleton<IRevocationCheck>(sp => sp.GetRequiredService<RevocationStage>());
        return services;
    }
}
