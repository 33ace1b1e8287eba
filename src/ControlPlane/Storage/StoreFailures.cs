using Microsoft.Data.Sqlite;
using Npgsql;

namespace Authio.ControlPlane.Storage;

/// <summary>Which store exceptions mean "the database is busy or unreachable, retry" rather than a bug.</summary>
internal static class StoreFailures
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    public static bool IsUnavailable(Exception? error) => error switch
    {
        StoreBusyException => true,
        SqliteException e => e.SqliteErrorCode is SqliteBusy or SqliteLocked,
        // Npgsql marks connection failures, pool exhaustion, timeouts, serialization failures and deadlocks transient.
        NpgsqlException e => e.IsTransient,
        _ => false,
    };
}
