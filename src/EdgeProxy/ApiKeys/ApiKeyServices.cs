using System.Net.Http.Headers;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Redis;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Sync;
using Microsoft.Extensions.Caching.Memory;
using ZiggyCreatures.Caching.Fusion;

namespace Authio.EdgeProxy.ApiKeys;

internal static partial class ApiKeyServices
{
    /// <summary>
    /// API keys (<c>Edge:ApiKeys</c>): the hot cache, FusionCache (memory, the Redis L2 when
    /// <see cref="RedisServices.AddEdgeRedis"/> registered one, the control-plane lookup), usage reporting, and the
    /// control-plane client (<c>Edge:ControlPlane</c>); without a control plane every API key is refused.
    /// </summary>
    public static IServiceCollection AddEdgeApiKeys(this IServiceCollection services, EdgeOptions options)
    {
        var controlPlaneConfigured = !string.IsNullOrWhiteSpace(options.ControlPlane.Url);
        services.AddSingleton(new ApiKeyHotCache(options.ApiKeys.CacheCapacity));
        services.AddSingleton<ApiKeyUsageCounters>();
        services.AddSingleton(sp => CreateCache(options, sp.GetService<RedisL2Cache>(), sp.GetRequiredService<ILoggerFactory>()));
        if (controlPlaneConfigured)
        {
            services.AddHttpClient(ControlPlaneClient.HttpClientName, http =>
            {
                http.BaseAddress = new Uri(options.ControlPlane.Url!);
                http.Timeout = TimeSpan.FromSeconds(options.ControlPlane.LongPollSeconds + 15); // the changes feed long-polls
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ControlPlane.ApiKey);
            });
            services.AddSingleton(sp => new ControlPlaneClient(sp.GetRequiredService<IHttpClientFactory>().CreateClient(ControlPlaneClient.HttpClientName)));
            services.AddHostedService<ApiKeyUsageReporter>();
        }
        services.AddSingleton<ApiKeyRecordChanges>();
        // Built by hand: the control plane and the sync feed are optional here.
        services.AddSingleton(sp => new ApiKeyAuthenticator(
            options,
            sp.GetRequiredService<ApiKeyHotCache>(),
            sp.GetRequiredService<IFusionCache>(),
            sp.GetService<ControlPlaneClient>(),
            sp.GetRequiredService<ApiKeyUsageCounters>(),
            sp.GetRequiredService<IRevocationCheck>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ApiKeyAuthenticator>>(),
            sp.GetService<EdgeSyncClient>() is { } sync ? () => sync.IsFresh : null,
            sp.GetRequiredService<EdgeMetrics>(),
            sp.GetRequiredService<ApiKeyRecordChanges>()));
        return services;
    }

    private static IFusionCache CreateCache(EdgeOptions options, RedisL2Cache? l2, ILoggerFactory loggers)
    {
        // FusionCache's own memory level is bounded too: a flood of distinct unknown keys cannot grow it.
        var memory = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.ApiKeys.CacheCapacity });
        var cache = new FusionCache(new FusionCacheOptions
        {
            CacheName = "authio-api-keys",
            CacheKeyPrefix = "authio:apikey:",
            DefaultEntryOptions = new FusionCacheEntryOptions { Size = 1 },
        }, memory, loggers.CreateLogger<FusionCache>());
        // Redis is a cache, not an authority: records are MAC'd, and without the shared key there is no L2 at all.
        if (l2 is not null && options.ApiKeys.CacheSigningKeyBytes() is { } macKey)
        {
            cache.SetupDistributedCache(new MacDistributedCache(l2, macKey), new JsonFusionCacheSerializer());
        }
        else if (!string.IsNullOrWhiteSpace(options.Redis))
        {
            LogL2Disabled(loggers.CreateLogger("Authio.EdgeProxy.ApiKeys.ApiKeyServices"));
        }
        return cache;
    }
}
