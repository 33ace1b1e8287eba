using Authio.EdgeProxy.Admin;
using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Demo;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Fleet;
using Authio.EdgeProxy.ForwardAuth;
using Authio.EdgeProxy.Memory;
using Authio.EdgeProxy.Pipeline;
using Authio.EdgeProxy.Policy;
using Authio.EdgeProxy.RateLimiting;
using Authio.EdgeProxy.Redis;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Sync;
using Authio.EdgeProxy.Tokens;
using Authio.EdgeProxy.Tracing;
using Authio.EdgeProxy.WebSockets;
using Authio.Shared.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Authio.EdgeProxy.Hosting;

/// <summary>Builds the edge: the proxy listener (standard ASP.NET URL settings) and the admin listener (Edge:AdminUrls).</summary>
internal static class EdgeApp
{
    public static EdgeHost Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        AddDefaults(builder.Configuration);
        var demo = builder.Configuration.GetValue<bool>($"{EdgeOptions.Section}:Demo:Enabled") ? DemoStack.Configure(builder.Configuration) : null;
        configure?.Invoke(builder);
        var options = LoadOptions(builder);
        SocketCompletions.Apply(options.Transport); // before anything below opens a socket

        // One line per feature folder (Feature/FeatureServices.cs). Redis first: its connection is under way before the
        // hosted services that use it start.
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddEdgeDiagnostics();
        services.AddEdgeMemory(options); // first: caps the cache capacities the features below are built with
        services.AddEdgeRedis(options);
        services.AddEdgeTokens(options);
        services.AddEdgeRevocation(options);
        services.AddEdgeAuthentication(options);
        services.AddEdgeApiKeys(options);
        services.AddEdgeSync(options);
        services.AddEdgeRateLimiting(options);
        services.AddEdgeWebSockets(options);
        services.AddEdgePolicy(options, builder.Configuration);
        services.AddEdgeTracing(builder.Configuration);
        services.AddEdgeFleet(options);

        var app = builder.Build();
        MapProxy(app);
        var admin = AdminApp.Build(app.Services, options.AdminUrls);
        var forwardAuth = options.ForwardAuth.Enabled ? ForwardAuthApp.Build(app, options.ForwardAuth, UseEdgeStages) : null;
        return new EdgeHost(app, admin, demo, forwardAuth);
    }

    /// <summary>
    /// Defaults below every other source (appsettings, environment, command line all override them), so they hold
    /// whatever the working directory: per-request logging off. While Hosting.Diagnostics is enabled at any level
    /// ASP.NET Core opens a log scope and an Activity per request (bench/README.md, "Under load").
    /// </summary>
    private static void AddDefaults(ConfigurationManager configuration) =>
        configuration.Sources.Insert(0, new MemoryConfigurationSource
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

    /// <summary>The <c>Edge</c> section, validated: a bad value stops start-up naming its key.</summary>
    private static EdgeOptions LoadOptions(WebApplicationBuilder builder)
    {
        EdgeOptions options;
        try
        {
            options = builder.Configuration.GetSection(EdgeOptions.Section).Get<EdgeOptions>() ?? new EdgeOptions();
        }
        catch (InvalidOperationException ex) when (ex.InnerException is FormatException or OverflowException or ArgumentException)
        {
            // A value of the wrong type ("abc" for a duration): the binder's message names the key and the value.
            throw new ConfigurationException("Invalid edge configuration", [ex.Message]);
        }
        var errors = EdgeOptionsValidator.Validate(options).Concat(Grpc.GrpcListeners.Validate(builder.Configuration))
            .Concat(LiveConnections.Validate(options.WebSockets)).Concat(FleetOptions.Validate(options.Fleet)).Concat(ForwardAuthOptions.Validate(options.ForwardAuth)).ToList();
        if (errors.Count > 0)
        {
            throw new ConfigurationException("Invalid edge configuration", errors);
        }
        // Kestrel answers an oversized header section itself, with an empty 431; its limit sits above the edge's own
        // (RequestHygiene), so the edge's problem+json answers everything up to twice Edge:Limits:MaxRequestHeaderBytes.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestHeadersTotalSize =
            Math.Max(kestrel.Limits.MaxRequestHeadersTotalSize, 2 * options.Limits.MaxRequestHeaderBytes));
        return options;
    }

    /// <summary>
    /// The proxy listener's pipeline. Path hygiene and the header scrub run before routing; unmatched routes and
    /// refused encoded separators are answered right after it, before any YARP route's pipeline.
    /// </summary>
    private static void MapProxy(WebApplication app)
    {
        UseEdgeStages(app);
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<EdgeMiddleware>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UseMiddleware<PassiveHealthChecksWhereEnabled>();
            proxy.UseEdgeForwardSpans();
        });
    }

    /// <summary>Everything before a YARP route's own pipeline; the forward-auth listener runs the same (<see cref="ForwardAuthApp"/>).</summary>
    private static void UseEdgeStages(IApplicationBuilder app)
    {
        app.UseEdgeServerSpans();
        app.UseMiddleware<RequestHygieneMiddleware>();
        app.UseRouting();
        app.UseMiddleware<RouteGateMiddleware>();
    }
}
