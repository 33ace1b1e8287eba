namespace Authio.ControlPlane.AdminConsole;

internal static class ConsoleRegistration
{
    /// <summary>The console's embedded static files (its sign-in cookie endpoints live with the other auth endpoints).</summary>
    public static IServiceCollection AddAdminConsole(this IServiceCollection services)
    {
        services.AddSingleton<ConsoleAssets>();
        return services;
    }
}
