using Authio.ControlPlane.Storage;

namespace Authio.ControlPlane.Diagnostics;

internal static class DiagnosticsRegistration
{
    /// <summary>Metrics, readiness checks, the gauge sampler and the admin listener that serves them.</summary>
    public static IServiceCollection AddDiagnostics(this IServiceCollection services)
    {
        services.AddSingleton<ControlPlaneMetrics>();
        services.AddSingleton<RedisHealth>();
        services.AddSingleton<HealthStore>();
        services.AddSingleton<ReadinessChecks>();
        services.AddSingleton<MetricsSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<MetricsSampler>());
        services.AddSingleton<AdminListener>();
        services.AddHostedService(sp => sp.GetRequiredService<AdminListener>());
        return services;
    }
}
