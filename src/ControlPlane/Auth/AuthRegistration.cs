namespace Authio.ControlPlane.Auth;

internal static class AuthRegistration
{
    /// <summary>Sign-in and its lockout table (refresh and logout are <see cref="Sessions.SessionService"/>'s).</summary>
    public static IServiceCollection AddAuth(this IServiceCollection services)
    {
        services.AddSingleton<LoginFailures>();
        services.AddSingleton<LoginService>();
        return services;
    }
}
