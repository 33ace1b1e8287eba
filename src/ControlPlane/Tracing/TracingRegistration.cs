using System.Diagnostics;
using Authio.ControlPlane.Storage;
using Authio.Shared.Tracing;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Authio.ControlPlane.Tracing;

internal static class TracingRegistration
{
    /// <summary>
    /// OpenTelemetry tracing, only when the standard variables turn it on (<see cref="TracingSwitch"/>, the edge's
    /// rule): a server span per endpoint (joining a well-formed incoming <c>traceparent</c> only,
    /// <see cref="StrictTraceContextPropagator"/>), a span per database transaction (<see cref="StorageTracing"/>), a
    /// client span per outgoing HTTP call, OTLP export. Sampler and exporter settings are the SDK's own <c>OTEL_*</c>.
    /// </summary>
    public static IServiceCollection AddTracing(this IServiceCollection services, IConfiguration configuration)
    {
        if (!TracingSwitch.IsEnabled(key => configuration[key]))
        {
            return services;
        }
        services.AddSingleton<DistributedContextPropagator>(new StrictTraceContextPropagator());
        Sdk.SetDefaultTextMapPropagator(new TraceContextPropagator());
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? "authio-control-plane"))
            .WithTracing(tracing => tracing
                .AddSource(StorageTracing.SourceName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        return services;
    }
}
