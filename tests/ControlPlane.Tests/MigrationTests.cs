using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Storage;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Authio.ControlPlane.Tests;

public sealed class MigrationTests
{
    [Fact]
    public async Task A_store_at_version_1_is_upgraded_in_place_and_keeps_its_data()
    {
        var dir = Path.Combine(Path.GetTempPath(), "authio-mig-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var cs = $"Data Source={Path.Combine(dir, "controlplane.db")};Pooling=false";
        try
        {
            await using (var c = new SqliteConnection(cs))
            {
                await c.OpenAsync();
                await c.ExecuteAsync("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
                await c.ExecuteAsync(Schema.Sql(Schema.All[0], Dialect.Sqlite));
                await c.ExecuteAsync("INSERT INTO schema_migrations VALUES (1, 'initial', '2026-01-01')");
                await c.ExecuteAsync("INSERT INTO orgs (id, name, created_at) VALUES ('org_old', 'Old', 0)");
            }
            var app = ControlPlaneApp.Build(["--urls=http://127.0.0.1:0", "--ControlPlane:AdminUrls=http://127.0.0.1:0", $"--ControlPlane:DataDirectory={dir}"]);
            await using (app)
            {
                await ControlPlaneApp.PrepareAsync(app);
                await ControlPlaneApp.PrepareAsync(app);
            }
            await using (var c = new SqliteConnection(cs))
            {
                await c.OpenAsync();
                Assert.Equal(Schema.All.Select(m => (long)m.Version), await c.QueryAsync<long>("SELECT version FROM schema_migrations ORDER BY version"));
                Assert.Equal("Old", await c.ExecuteScalarAsync<string>("SELECT name FROM orgs WHERE id = 'org_old'"));
                Assert.Equal(0L, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM signing_keys WHERE activation_audited <> 0"));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}
