using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Storage;

internal static class StorageRegistration
{
    /// <summary>
    /// The store (PostgreSQL when <c>ConnectionStrings:ControlPlane</c> is set, else SQLite in the data directory) and
    /// its migrator. The connection strings are checked here, so a bad one stops start-up naming its key.
    /// </summary>
    public static IServiceCollection AddStorage(this IServiceCollection services, ControlPlaneOptions options, IConfiguration configuration)
    {
        Db.MapSnakeCaseColumns();
        services.AddSingleton(DbFactory.Create(configuration, options));
        services.AddSingleton<Migrator>();
        return services;
    }
}
