namespace Authio.ControlPlane.Users;

internal static class UsersRegistration
{
    /// <summary>Users, memberships and roles.</summary>
    public static IServiceCollection AddUsers(this IServiceCollection services)
    {
        services.AddSingleton<UserStore>();
        services.AddSingleton<UserService>();
        return services;
    }
}
