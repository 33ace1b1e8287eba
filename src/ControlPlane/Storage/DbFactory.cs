using Authio.ControlPlane.Hosting;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Authio.ControlPlane.Storage;

internal static class DbFactory
{
    public const string AppKey = "ConnectionStrings:ControlPlane";
    public const string AdminKey = "ConnectionStrings:ControlPlaneAdmin";

    /// <summary>PostgreSQL when <c>ConnectionStrings:ControlPlane</c> is set, otherwise SQLite in the data directory.</summary>
    public static Db Create(IConfiguration configuration, ControlPlaneOptions options)
    {
        var app = configuration.GetConnectionString("ControlPlane");
        var admin = configuration.GetConnectionString("ControlPlaneAdmin");
        if (!string.IsNullOrWhiteSpace(app))
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(app);
                if (!string.IsNullOrWhiteSpace(admin)) _ = new NpgsqlConnectionStringBuilder(admin);
            }
            catch (ArgumentException ex)
            {
                throw new ConfigException(AppKey, "is not a valid Npgsql connection string: " + ex.Message);
            }
            return new Db(Dialect.Postgres, app, string.IsNullOrWhiteSpace(admin) ? null : admin);
        }
        if (!string.IsNullOrWhiteSpace(admin))
            throw new ConfigException(AdminKey, "is set but " + AppKey + " is not");
        try
        {
            Directory.CreateDirectory(options.DataDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException("ControlPlane:DataDirectory", "cannot be created: " + ex.Message);
        }
        var cs = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(options.DataDirectory, "controlplane.db"),
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        return new Db(Dialect.Sqlite, cs, null);
    }
}
