using Authio.EdgeProxy.Admin;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Demo;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Pipeline;
using Authio.EdgeProxy.Policy;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tokens;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Authio.EdgeProxy.Hosting;

/// <summary>Builds the edge: the proxy listener (standard ASP.NET URL settings) and the admin listener (Edge:AdminUrls).</summary>
internal static class EdgeApp
{
    public static EdgeHost Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        // Defaults below every other source (appsettings, environment, command line all override them), so they hold
        // whatever the working directory: per-request logging off. While Hosting.Diagnostics is enabled at any level
        // ASP.NET Core opens a log scope and an Activity per request (≈ 18 % of throughput in load/run.sh).
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "None",
                ["Logging:LogLevel:Yarp"] = "Warning",
                ["Logging:LogLevel:ZiggyCreatures"] = "Warning",
                ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
            },
        });
        DemoStack? demo = null;
        if (builder.Configuration.GetValue<bool>($"{EdgeOptions.Section}:Demo:Enabled"))
        {
            demo = DemoStack.Configure(builder.Configuration);
        }
        configure?.Invoke(builder);

        var options = builder.Configuration.GetSection(EdgeOptions.Section).Get<EdgeOptions>() ?? new EdgeOptions();
        var errors = EdgeOptionsValidator.Validate(options).Concat(Grpc.GrpcListeners.Validate(builder.Configuration))
            .Concat(WebSockets.LiveConnections.Validate(options.WebSockets)).ToList();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid edge configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }

        // Kestrel answers an oversized header section itself, with an empty 431; its limit sits above the edge's own
        // (RequestHygiene), so the edge's problem+json answers everything up to twice Edge:Limits:MaxRequestHeaderBytes.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestHeadersTotalSize =
            Math.Max(kestrel.Limits.MaxRequestHeadersTotalSize, 2 * options.Limits.MaxRequestHeaderBytes));

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(sp => new IssuerRegistry(options.Issuers.Select(i => new TrustedIssuer(i)).ToArray()));
        services.AddSingleton(sp => new JwtValidator(sp.GetRequiredService<IssuerRegistry>(), sp.GetRequiredService<TimeProvider>(), options.Tokens));
        services.AddSingleton(sp => options.Tokens.CacheCapacity > 0 ? new TokenCache(options.Tokens.CacheCapacity) : null!);
        services.AddSingleton(sp => new FailureBudget(options.FailureBudget, sp.GetRequiredService<TimeProvider>()));
        if (!string.IsNullOrWhiteSpace(options.Redis) && options.Revocation.RedisExactSet)
        {
            services.AddSingleton(sp => new RedisRevocations(options.Redis, options.Revocation, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<RedisRevocations>>()));
        }
        services.AddSingleton(sp => new RevocationStage(sp.GetRequiredService<TimeProvider>(), options.Revocation.Capacity, options.Revocation.FalsePositiveRate,
            sp.GetService<RedisRevocations>()));
        services.TryAddSingleton<IRevocationCheck>(sp => sp.GetRequiredService<RevocationStage>());
        services.AddSingleton(sp => new EdgeAuthenticator(
            sp.GetRequiredService<JwtValidator>(),
            options.Tokens.CacheCapacity > 0 ? sp.GetRequiredService<TokenCache>() : null,
            sp.GetRequiredService<FailureBudget>(),
            sp.GetRequiredService<IRevocationCheck>(),
            sp.GetRequiredService<EdgeMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            options.FailureBudget.NegativeCacheCapacity > 0 ? new NegativeTokenCache(options.FailureBudget.NegativeCacheCapacity) : null));
        services.AddSingleton<EdgeMetrics>();
        services.AddSingleton<WebSockets.LiveConnections>();
        services.AddSingleton(new RoutePolicies(KnownIssuerNames(options)));
        services.AddHttpClient(JwksFetcher.HttpClientName);
        services.AddSingleton(sp => new JwksFetcher(sp.GetRequiredService<IHttpClientFactory>().CreateClient(JwksFetcher.HttpClientName)));
        services.AddSingleton<JwksRefresher>();
        services.AddHostedService(sp => sp.GetRequiredService<JwksRefresher>());
        ApiKeyServices.Add(services, options);
        Sync.EdgeSyncServices.Add(services, options);
        RateLimitServices.Add(services, options);
        services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddConfigFilter<RoutePolicyConfigFilter>();

        var app = builder.Build();
        // Path hygiene and the header scrub run before routing; unmatched routes and refused encoded separators are
        // answered right after it, before any YARP route's pipeline.
        app.UseMiddleware<RequestHygieneMiddleware>();
        app.UseRouting();
        app.UseMiddleware<RouteGateMiddleware>();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<EdgeMiddleware>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        var admin = AdminApp.Build(app.Services, options.AdminUrls);
        return new EdgeHost(app, admin, demo);
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
