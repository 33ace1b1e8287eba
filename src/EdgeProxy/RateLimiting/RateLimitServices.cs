using Authio.EdgeProxy.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Authio.EdgeProxy.RateLimiting;

internal static class RateLimitServices
{
    public static void Add(IServiceCollection services, EdgeOptions options)
    {
        var settings = options.RateLimits;
        // Validated at start-up (EdgeOptionsValidator), so the parse cannot fail here.
        RateLimit? defaultLimit = null;
        if (!string.IsNullOrWhiteSpace(settings.Default) && !RateLimit.TryParse("default", settings.Default, out defaultLimit, out var error))
        {
            throw new InvalidOperationException($"{EdgeOptions.Section}:RateLimits:Default {error}.");
        }
        services.AddSingleton(new BucketTable(settings.Capacity, options.FailureBudget.Ipv6Prefix));
        services.TryAddSingleton<InMemoryOrgRateLimits>();
        services.TryAddSingleton<IOrgRateLimits>(sp => sp.GetRequiredService<InMemoryOrgRateLimits>());
        if (!string.IsNullOrWhiteSpace(options.Redis))
        {
            services.AddSingleton(sp => new GlobalLeases(options.Redis, settings.ExpectedEdges, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<GlobalLeases>>()));
            services.AddHostedService(sp => sp.GetRequiredService<GlobalLeases>());
        }
        services.AddSingleton(sp => new RateLimiter(
            sp.GetRequiredService<BucketTable>(),
            sp.GetRequiredService<IOrgRateLimits>(),
            defaultLimit,
            settings.ExpectedEdges,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<GlobalLeases>()));
    }
}
