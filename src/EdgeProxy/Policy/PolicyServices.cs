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
            .AddConfigFilter<RoutePolicyConfigFilter>()
            .AddTransforms<Pipeline.IdentityForwarding.TransformProvider>()
            .AddTransforms<Pipeline.ForwardedHeadersTransform.TransformProvider>();
        Pipeline.UpstreamTransformer.Decorate(services);
        RemoveEagerKeyRingLoad(services);
        // YARP registers ASP.NET authorization for a route's AuthorizationPolicy, which the edge refuses (RoutePolicy:
        // it authorizes through Authio.* metadata). With the handler provider registered, WebApplication puts an
        // AuthorizationMiddleware in front of every request (an async state machine and a policy look-up each, before
        // routing, so it could not enforce a route's policy anyway); without it there is none.
        services.RemoveAll<Microsoft.AspNetCore.Authorization.IAuthorizationHandlerProvider>();
        return services;
    }

    /// <summary>
    /// YARP registers Data Protection for its session-affinity cookies, and with it a hosted service that loads the key
    /// ring at start-up (creating and writing one to disk on a first start) and pulls in the XML stack: ≈ 3 MiB resident
    /// (load/README.md "Memory") for a feature most edge routes never use. Without the service the key ring loads on
    /// the first affinity cookie instead; affinity itself is unchanged.
    /// </summary>
    private static void RemoveEagerKeyRingLoad(IServiceCollection services)
    {
        const string EagerLoader = "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService";
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IHostedService) && services[i].ImplementationType?.FullName == EagerLoader)
            {
                services.RemoveAt(i);
            }
        }
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
