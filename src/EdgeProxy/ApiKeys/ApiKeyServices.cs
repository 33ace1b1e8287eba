using System.Net.Http.Headers;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Sync;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion;

namespace Authio.EdgeProxy.ApiKeys;

internal static class ApiKeyServices
{
    public static void Add(IServiceCollection services, EdgeOptions options)
    {
        var controlPlaneConfigured = !string.IsNullOrWhiteSpace(options.ControlPlane.Url);
        services.AddSingleton(new ApiKeyHotCache(options.ApiKeys.CacheCapacity));
        services.AddSingleton<ApiKeyUsageCounters>();
        services.AddSingleton<IFusionCache>(sp =>
        {
            // FusionCache's own memory level is bounded too: a flood of distinct unknown keys cannot grow it.
            var memory = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.ApiKeys.CacheCapacity });
            var cache = new FusionCache(new FusionCacheOptions
            {
                CacheName = "authio-api-keys",
                CacheKeyPrefix = "authio:apikey:",
                DefaultEntryOptions = new FusionCacheEntryOptions { Size = 1 },
            }, memory, sp.GetRequiredService<ILogger<FusionCache>>());
            if (!string.IsNullOrWhiteSpace(options.Redis))
            {
                // Redis is a cache, not an authority: records are MAC'd, and without the shared key there is no L2 at all.
                if (options.ApiKeys.CacheSigningKeyBytes() is { } macKey)
                {
                    var redis = new RedisCache(new RedisCacheOptions { Configuration = options.Redis, InstanceName = "authio-edge:" });
                    cache.SetupDistributedCache(new MacDistributedCache(redis, macKey), new JsonFusionCacheSerializer());
                }
                else
                {
                    ApiKeyCacheLog.L2Disabled(sp.GetRequiredService<ILoggerFactory>().CreateLogger("Authio.EdgeProxy.ApiKeys.ApiKeyServices"));
                }
            }
            return cache;
        });
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
        services.AddSingleton(sp => new ApiKeyAuthenticator(
            options,
            sp.GetRequiredService<ApiKeyHotCache>(),
            sp.GetRequiredService<IFusionCache>(),
            controlPlaneConfigured ? sp.GetRequiredService<ControlPlaneClient>() : null,
            sp.GetRequiredService<ApiKeyUsageCounters>(),
            sp.GetRequiredService<IRevocationCheck>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ApiKeyAuthenticator>>(),
            sp.GetService<EdgeSyncClient>() is { } sync ? () => sync.IsFresh : null));
    }
}

internal static partial class ApiKeyCacheLog
{
    [LoggerMessage(Diagnostics.LogEvents.ApiKeyCacheUnsigned, LogLevel.Warning,
        "API keys: Edge:Redis is set but Edge:ApiKeys:CacheSigningKey is not; the shared Redis L2 is not used for API keys (each edge asks the control plane on its own misses)")]
    public static partial void L2Disabled(ILogger logger);
}
