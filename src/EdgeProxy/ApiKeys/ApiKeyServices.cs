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

    /// <summary>
    /// The API-key cache's FusionCache settings. A pushed change of a key drops every record tagged with its id, and
    /// drops it outright: an expired record would stay FusionCache's fail-safe answer while the control plane is down,
    /// and a secret rotated out must not come back that way.
    /// </summary>
    /// <remarks>
    /// The tag markers (one per key id a lookup met, written by RemoveByTag or read as "none") live in the same
    /// size-limited memory: sized, kept longer than any record can live, and evicted under size pressure only after
    /// the records (High against their Normal): an evicted marker would let a dropped record answer again, and
    /// NeverRemove markers could fill the cache with no room left for records.
    /// </remarks>
    private static FusionCacheOptions CacheOptions(EdgeOptions options) => new()
    {
        CacheName = "authio-api-keys",
        CacheKeyPrefix = "authio:apikey:",
        DefaultEntryOptions = new FusionCacheEntryOptions { Size = 1 },
        RemoveByTagBehavior = RemoveByTagBehavior.Remove,
        TagsDefaultEntryOptions = TagMarkerOptions(options),
    };

    /// <summary>What a tag marker is written with: by RemoveByTag (a pushed change), and when a lookup reads "none".</summary>
    private static FusionCacheEntryOptions TagMarkerOptions(EdgeOptions options) => new()
    {
        Size = 1,
        Priority = CacheItemPriority.High,
        Duration = options.ApiKeys.CacheDuration + options.ApiKeys.FailSafeMaxDuration + options.ApiKeys.PushedRefreshInterval,
        // The memory level at once; Redis (L2) in the background: the feed applying a change must not wait on it.
        AllowBackgroundDistributedCacheOperations = true,
    };

    internal static IFusionCache CreateCache(EdgeOptions options, RedisL2Cache? l2, ILoggerFactory loggers)
    {
        // FusionCache's own memory level is bounded too: a flood of distinct unknown keys cannot grow it.
        var memory = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.ApiKeys.CacheCapacity });
        var cache = new FusionCache(CacheOptions(options), memory, loggers.CreateLogger<FusionCache>());
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
