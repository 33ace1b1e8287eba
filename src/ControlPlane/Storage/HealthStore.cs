using Dapper;

namespace Authio.ControlPlane.Storage;

/// <summary>The queries readiness asks: can the app role reach the database, and which schema version is applied.</summary>
internal sealed class HealthStore(Db db)
{
    /// <summary>The newest applied migration, read as the app role (what every request uses); 0 when none.</summary>
    public async Task<long> AppliedVersionAsync(CancellationToken ct)
    {
        await using var c = await db.OpenAsync(admin: false, ct);
        return await c.ExecuteScalarAsync<long?>(new CommandDefinition("SELECT MAX(version) FROM schema_migrations", cancellationToken: ct)) ?? 0;
    }
}
