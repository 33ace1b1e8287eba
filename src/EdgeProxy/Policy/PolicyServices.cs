using Authio.EdgeProxy.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Authio.EdgeProxy.Policy;

internal static class PolicyServices
{
    /// <summary>
    /// Route policies: YARP's routes from <c>ReverseProxy</c>, with each route's <c>Authio.*</c> metadata parsed (and a
    /// bad route refused) by <see cref="RoutePolicyConfigFilter"/> as the configuration loads or reloads.
    /// </summary>
    public static IServiceCollection AddEdgePolicy(this IServiceCollection services, EdgeOptions options, IConfiguration configuration)
    {
        services.AddSingleton(new RoutePolicies(KnownIssuerNames(options)));
        // Step-up compares auth_time with a cached wall clock (one field read), not a clock read per request.
        services.TryAddSingleton(sp => new RateLimiting.CoarseClock(sp.GetRequiredService<TimeProvider>()));
        services.AddReverseProxy()
            .LoadFromConfig(configuration.GetSection("ReverseProxy"))
            .AddConfigFilter<RoutePolicyConfigFilter>();
        return services;
    }

    /// <summary>What routes may name in <c>Authio.Issuers</c>: every configured issuer, and the control plane's when the edge follows it.</summary>
    private static HashSet<string> KnownIssuerNames(EdgeOptions options)
    {
        var names = options.Issuers.Where(i => !string.IsNullOrWhiteSpace(i.Issuer)).Select(i => i.RouteName).ToHashSet(StringComparer.Ordinal);
        if (!string.IsNullOrWhiteSpace(options.ControlPlane.Url))
        {
            names.Add(IssuerOptions.ControlPlaneName);
        }
        return names;
    }
}
