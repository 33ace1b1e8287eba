using Authio.ControlPlane.Hosting;
using Authio.Shared.Configuration;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Authio.ControlPlane.Storage;

internal static class DbFactory
{
    public const string AppKey = "ConnectionStrings:ControlPlane";
    public const string AdminKey = "ConnectionStrings:ControlPlaneAdmin";

    private static void Parse(string connectionString, string key)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            // The message could echo the password; name the key only.
            throw new ConfigurationException(key, "is not a valid Npgsql connection string.");
        }
    }

    /// <summary>PostgreSQL when <c>ConnectionStrings:ControlPlane</c> is set, otherwise SQLite in the data directory.</summary>
    public static Db Create(IConfiguration configuration, ControlPlaneOptions options)
    {
        var app = configuration.GetConnectionString("ControlPlane");
        var admin = configuration.GetConnectionString("ControlPlaneAdmin");
        if (!string.IsNullOrWhiteSpace(app))
        {
            Parse(app, AppKey);
            if (!string.IsNullOrWhiteSpace(admin))
            {
                Parse(admin, AdminKey);
            }

            return new Db(Dialect.Postgres, app, string.IsNullOrWhiteSpace(admin) ? null : admin);
        }
        if (!string.IsNullOrWhiteSpace(admin))
        {
            throw new ConfigurationException(AdminKey, "is set but " + AppKey + " is not");
        }

        try
        {
            Directory.CreateDirectory(options.DataDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException("ControlPlane:DataDirectory", "cannot be created: " + ex.Message);
        }
        // Not pooled: a pooled SQLite handle lives as long as the process, so one left inside a transaction (a rollback
        // that failed) would hold the database's write lock for good and every later write would wait 30 s and fail; an
        // unpooled handle is closed with its connection, or at the latest by its finalizer. Opening one costs tens of
        // microseconds, next to a transaction's fsync. Transactions already queue in Db, so there is no pool to reuse.
        var cs = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(options.DataDirectory, "controlplane.db"),
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
        return new Db(Dialect.Sqlite, cs, null);
    }
}
