namespace Authio.ControlPlane.Sessions;

internal static class SessionsRegistration
{
    /// <summary>Sessions, refresh-token rotation and session endings.</summary>
    public static IServiceCollection AddSessions(this IServiceCollection services)
    {
        services.AddSingleton<SessionStore>();
        services.AddSingleton<SessionService>();
        services.AddSingleton<SessionPropagation>();
        services.AddSingleton<LiveSessionStore>();
        return services;
    }
}
