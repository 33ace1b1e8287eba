namespace Authio.ControlPlane.Teams;

internal static class TeamsRegistration
{
    /// <summary>Teams and their members.</summary>
    public static IServiceCollection AddTeams(this IServiceCollection services)
    {
        services.AddSingleton<TeamStore>();
        services.AddSingleton<TeamService>();
        return services;
    }
}
