namespace Authio.ControlPlane.Audit;

internal static class AuditRegistration
{
    /// <summary>The per-org hash chains, their retention and their signed checkpoints and cuts.</summary>
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddSingleton<AuditStore>();
        services.AddSingleton<SignInStats>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<AuditRetention>();
        services.AddSingleton<AuditSeals>();
        return services;
    }
}
