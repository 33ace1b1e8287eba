namespace Authio.EdgeProxy.Diagnostics;

internal static class DiagnosticsServices
{
    /// <summary>The edge's metrics (served on the admin listener's <c>/metrics</c>).</summary>
    public static IServiceCollection AddEdgeDiagnostics(this IServiceCollection services)
    {
        services.AddSingleton<EdgeMetrics>();
        return services;
    }
}
