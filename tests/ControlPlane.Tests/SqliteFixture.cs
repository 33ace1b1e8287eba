using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Authio.ControlPlane.Tests;

public sealed class SqliteFixture : ControlPlaneFixture
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
