using System.Data.Common;
using Dapper;
using Npgsql;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// A fresh database per test class on the server from <c>AUTHIO_TEST_POSTGRES</c>. Migrations run as the
/// superuser (owner); the service connects as a separate login role that owns nothing, as in production.
/// </summary>
public sealed class PostgresFixture : ControlPlaneFixture
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..12];
    private string? _admin;

    public string Database => "authio_t_" + _suffix;
    public string AppRole => "authio_app_" + _suffix;
    public string AppConnectionString { get; private set; } = "";

    protected override async Task<string[]?> StoreArgumentsAsync()
    {
        var server = PostgresEnvironment.ConnectionString;
        if (server is null)
        {
            if (PostgresEnvironment.IsCi)
            {
                throw new InvalidOperationException($"CI=true but {PostgresEnvironment.Variable} is not set; PostgreSQL tests cannot be skipped on CI.");
            }

            return null;
        }
        var appPassword = "pw" + Guid.NewGuid().ToString("N");
        await using (var c = new NpgsqlConnection(server))
        {
            await c.OpenAsync();
            await c.ExecuteAsync($"CREATE DATABASE {Database}");
            await c.ExecuteAsync($"CREATE ROLE {AppRole} LOGIN PASSWORD '{appPassword}' NOSUPERUSER NOBYPASSRLS");
        }
        _admin = new NpgsqlConnectionStringBuilder(server) { Database = Database }.ToString();
        AppConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = Database, Username = AppRole, Password = appPassword }.ToString();
        return [$"--ConnectionStrings:ControlPlane={AppConnectionString}", $"--ConnectionStrings:ControlPlaneAdmin={_admin}"];
    }

    public override async Task<DbConnection> OpenInspectorAsync()
    {
        var c = new NpgsqlConnection(_admin);
        await c.OpenAsync();
        return c;
    }

    public async Task<NpgsqlConnection> OpenAsAppAsync()
    {
        var c = new NpgsqlConnection(AppConnectionString);
        await c.OpenAsync();
        return c;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_admin is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var c = new NpgsqlConnection(PostgresEnvironment.ConnectionString);
        await c.OpenAsync();
        await c.ExecuteAsync($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)");
        await c.ExecuteAsync($"DROP ROLE IF EXISTS {AppRole}");
    }
}
