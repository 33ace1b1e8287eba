using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Authio.ControlPlane.Tests;

public class SqliteFixtureBase : ControlPlaneFixture
{
    // SQLite is the default when no PostgreSQL connection string is set.
    protected override Task<string[]?> StoreArgumentsAsync() => Task.FromResult<string[]?>([]);

    public override async Task<DbConnection> OpenInspectorAsync()
    {
        var c = new SqliteConnection($"Data Source={Path.Combine(DataDirectory, "controlplane.db")};Pooling=false");
        await c.OpenAsync();
        return c;
    }
}

public sealed class SqliteFixture : SqliteFixtureBase;
