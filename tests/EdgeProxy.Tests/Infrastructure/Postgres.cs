using Dapper;
using Npgsql;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Authio.EdgeProxy.Tests.Infrastructure;

/// <summary>The throwaway PostgreSQL server of <c>scripts/services/pg.sh</c> (<c>AUTHIO_TEST_POSTGRES</c>).</summary>
public static class PostgresEnvironment
{
    public const string Variable = "AUTHIO_TEST_POSTGRES";

    public static string? ConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v ? v : null;

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when the PostgreSQL tests should run (or must fail, on CI).</summary>
    public static string? SkipReason => ConnectionString is null && !IsCi
        ? $"{Variable} is not set: run `source scripts/services/pg.sh && authio_pg_start` first. PostgreSQL tests skipped."
        : null;
}

/// <summary>
/// A fact of an end-to-end suite that runs once per store: the class whose name contains <c>Postgres</c> is skipped, with
/// a visible reason, when no test server is configured (unless <c>CI=true</c>, where it fails instead).
/// </summary>
[XunitTestCaseDiscoverer("Authio.EdgeProxy.Tests.Infrastructure.StoreFactDiscoverer", "Authio.EdgeProxy.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class StoreFactAttribute : FactAttribute;

public sealed class StoreFactDiscoverer(IMessageSink sink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        [new StoreTestCase(sink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
}

public sealed class StoreTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public StoreTestCase() { }

    public StoreTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod method)
        : base(sink, display, options, method) { }

    protected override string? GetSkipReason(IAttributeInfo factAttribute) =>
        TestMethod.TestClass.Class.Name.Contains("Postgres", StringComparison.Ordinal) ? PostgresEnvironment.SkipReason : base.GetSkipReason(factAttribute);
}

/// <summary>
/// A fresh database for one real control plane: migrations as the server's superuser (owner), the service as a login
/// role that owns nothing and does not bypass row-level security, as in production.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..12];
    private string _server = "";
    private string Database => "authio_e2e_" + _suffix;
    private string AppRole => "authio_e2e_app_" + _suffix;

    /// <summary>The control plane's arguments for this database.</summary>
    public string[] Arguments { get; private set; } = [];

    /// <summary>On <paramref name="server"/> (a superuser connection string), by default the shared test server.</summary>
    public static async Task<PostgresDatabase> CreateAsync(string? server = null)
    {
        server ??= PostgresEnvironment.ConnectionString
            ?? throw new InvalidOperationException($"{PostgresEnvironment.Variable} is not set; PostgreSQL end-to-end tests cannot run.");
        var db = new PostgresDatabase { _server = server };
        var appPassword = "pw" + Guid.NewGuid().ToString("N");
        await using (var c = new NpgsqlConnection(server))
        {
            await c.OpenAsync();
            await c.ExecuteAsync($"CREATE DATABASE {db.Database}");
            await c.ExecuteAsync($"CREATE ROLE {db.AppRole} LOGIN PASSWORD '{appPassword}' NOSUPERUSER NOBYPASSRLS");
        }
        var admin = new NpgsqlConnectionStringBuilder(server) { Database = db.Database }.ToString();
        var app = new NpgsqlConnectionStringBuilder(server) { Database = db.Database, Username = db.AppRole, Password = appPassword }.ToString();
        db.Arguments = [$"--ConnectionStrings:ControlPlane={app}", $"--ConnectionStrings:ControlPlaneAdmin={admin}"];
        return db;
    }

    public async ValueTask DisposeAsync()
    {
        if (Arguments.Length == 0)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var c = new NpgsqlConnection(_server);
        await c.OpenAsync();
        await c.ExecuteAsync($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)");
        await c.ExecuteAsync($"DROP ROLE IF EXISTS {AppRole}");
    }
}
