using System.Diagnostics;
using Authio.EdgeProxy.Admin;
using Authio.Shared.Tracing;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Authio.EdgeProxy.Tracing;

internal static class TracingServices
{
    /// <summary>
    /// OpenTelemetry tracing, only when the standard variables turn it on (<see cref="TracingSwitch"/>): ASP.NET Core's
    /// server span (it joins a well-formed incoming <c>traceparent</c>, <see cref="StrictTraceContextPropagator"/>), the
    /// edge's stage span, the forward's client span (YARP's handler injects the current context into the upstream
    /// request, replacing the caller's headers), OTLP export. Sampler and exporter settings are the SDK's own
    /// <c>OTEL_*</c> variables. Off, nothing is registered and ASP.NET Core creates no Activity per request.
    /// </summary>
    public static IServiceCollection AddEdgeTracing(this IServiceCollection services, IConfiguration configuration)
    {
        if (!TracingSwitch.IsEnabled(key => configuration[key]))
        {
            return services;
        }
        // ASP.NET Core's hosting extracts the parent with the DI propagator; the instrumentation's own extraction is
        // skipped when the SDK's propagator is plain W3C trace context.
        services.AddSingleton<DistributedContextPropagator>(new StrictTraceContextPropagator());
        Sdk.SetDefaultTextMapPropagator(new TraceContextPropagator());
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? "authio-edge"))
            .WithTracing(tracing => tracing
                .AddSource(EdgeTracing.SourceName)
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = IsNotAdmin)
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        return services;
    }

    /// <summary>The admin listener is a host of its own in this process: its scrapes and probes are not traced.</summary>
    private static bool IsNotAdmin(HttpContext context) =>
        context.RequestServices.GetService<IWebHostEnvironment>()?.ApplicationName != AdminApp.ApplicationName;
}
