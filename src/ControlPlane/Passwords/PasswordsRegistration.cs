namespace Authio.ControlPlane.Passwords;

internal static class PasswordsRegistration
{
    /// <summary>bcrypt hashing and the configured password rules.</summary>
    public static IServiceCollection AddPasswords(this IServiceCollection services)
    {
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<PasswordPolicy>();
        return services;
    }
}
