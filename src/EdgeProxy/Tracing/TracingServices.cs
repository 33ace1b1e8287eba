using Authio.Shared.Tracing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Yarp.ReverseProxy.Forwarder;

namespace Authio.EdgeProxy.Tracing;

internal static class TracingServices
{
    /// <summary>
    /// OpenTelemetry tracing, only when the standard variables turn it on (<see cref="TracingSwitch"/>): the edge's own
    /// server, stage and forward spans (<see cref="EdgeTracing"/>), OTLP export. The sampling decision is the edge's
    /// (<see cref="TraceSampler"/>, from the SDK's <c>OTEL_TRACES_SAMPLER*</c> variables) and is taken before any
    /// Activity exists, so the SDK samples whatever the edge starts. ASP.NET Core's and HttpClient's instrumentation are
    /// not used: they would create an Activity for every request, sampled or not. Exporter settings are the SDK's own
    /// <c>OTEL_*</c> variables. Off, nothing is registered and no Activity is ever created.
    /// </summary>
    public static IServiceCollection AddEdgeTracing(this IServiceCollection services, IConfiguration configuration)
    {
        if (!TracingSwitch.IsEnabled(key => configuration[key]))
        {
            return services;
        }
        services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, TracingForwarderHttpClientFactory>());
        services.AddSingleton(new TraceSampler(configuration["OTEL_TRACES_SAMPLER"], configuration["OTEL_TRACES_SAMPLER_ARG"]));
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? "authio-edge"))
            .WithTracing(tracing => tracing
                .AddSource(EdgeTracing.SourceName)
                .SetSampler(new AlwaysOnSampler())
                .AddOtlpExporter());
        return services;
    }

    /// <summary>The server span first, before path hygiene, so refusals at any stage are traced too (tracing on only).</summary>
    public static void UseEdgeServerSpans(this IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetService<TraceSampler>() is not null)
        {
            app.UseMiddleware<ServerSpanMiddleware>();
        }
    }

    /// <summary>The forward's client span, last in the route pipeline (tracing on only).</summary>
    public static void UseEdgeForwardSpans(this IReverseProxyApplicationBuilder proxy)
    {
        if (proxy.ApplicationServices.GetService<TraceSampler>() is not null)
        {
            proxy.UseMiddleware<ForwardSpanMiddleware>();
        }
    }
}
