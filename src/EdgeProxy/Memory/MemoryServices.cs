using System.Diagnostics.Metrics;
using System.Runtime;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Memory;

internal static class MemoryServices
{
    /// <summary>
    /// The caches' memory budget (<c>Edge:Memory</c>): caps the token, negative, API-key and rate-limit capacities in
    /// <paramref name="options"/> to their shares (so call this before the features that build those tables), registers
    /// the pressure monitor that sheds cold entries near the limit, and the memory gauges.
    /// </summary>
    public static IServiceCollection AddEdgeMemory(this IServiceCollection services, EdgeOptions options)
    {
        var budget = MemoryBudget.Apply(options, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        services.AddSingleton(options.Memory);
        services.AddSingleton(budget);
        services.AddSingleton<MemoryPressureMonitor>();
        services.AddHostedService(sp =>
        {
            var monitor = sp.GetRequiredService<MemoryPressureMonitor>();
            var b = budget;
            MemoryPressureMonitor.LogBudget(sp.GetRequiredService<ILogger<MemoryPressureMonitor>>(), b.Bytes >> 20, b.Available >> 20,
                GCSettings.IsServerGC ? "server" : "workstation", b.TokenCacheCapacity, b.Configured.Tokens, b.NegativeCacheCapacity,
                b.Configured.Negative, b.ApiKeyCacheCapacity, b.Configured.ApiKeys, b.RateLimitCapacity, b.Configured.RateLimits);
            RegisterGauges(sp.GetRequiredService<IMeterFactory>().Create(EdgeMetrics.MeterName), budget, sp.GetRequiredService<TokenCache>(), monitor);
            return monitor;
        });
        return services;
    }

    private static void RegisterGauges(Meter meter, MemoryBudget budget, TokenCache tokens, MemoryPressureMonitor monitor)
    {
        meter.CreateObservableGauge("authio.edge.memory.budget", () => budget.Bytes, unit: "By",
            description: "The caches' memory budget (Edge:Memory:Budget, default half of what the runtime sees).");
        meter.CreateObservableCounter("authio.edge.memory.pressure_trims", () => monitor.Trims,
            description: "Times the caches shed cold entries because the GC's memory load or heap neared the limit.");
        meter.CreateObservableCounter("authio.edge.memory.collections", () => monitor.Collections,
            description: "Background full GCs the memory monitor asked for because the heap had outgrown what was live.");
        meter.CreateObservableCounter("authio.edge.memory.compactions", () => monitor.Compactions,
            description: "Compacting full GCs the memory monitor asked for because dead cache entries left free space in the heap.");
        meter.CreateObservableGauge("authio.edge.token_cache.entries", () => tokens.Count(),
            description: "Validated tokens cached now.");
        meter.CreateObservableGauge("authio.edge.token_cache.capacity", () => tokens.Capacity,
            description: "Most tokens the cache holds (Edge:Tokens:CacheCapacity, capped by the memory budget).");
        meter.CreateObservableCounter("authio.edge.token_cache.evictions", () => tokens.Evictions,
            description: "Cached tokens dropped to make room for another or to shed memory (not expiry or revocation).");
    }
}
