using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.AuditStreams;

internal static class AuditStreamsRegistration
{
    /// <summary>The audit streamer, when <c>ControlPlane:AuditStreams</c> names at least one stream (nothing otherwise).</summary>
    public static IServiceCollection AddAuditStreams(this IServiceCollection services, ControlPlaneOptions options)
    {
        if (options.AuditStreams.Count == 0)
        {
            return services;
        }

        services.AddSingleton<AuditStreamStore>();
        services.AddSingleton<AuditStreamer>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditStreamer>());
        // A receiver gets 10 s per batch; redirects are not followed (the configured URL is the only destination).
        services.AddHttpClient("audit-streams", c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        return services;
    }
}
