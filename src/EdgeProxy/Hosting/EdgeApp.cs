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
        var errors = EdgeOptionsValidator.Validate(options);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid edge configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }

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
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<EdgeMetrics>();
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
