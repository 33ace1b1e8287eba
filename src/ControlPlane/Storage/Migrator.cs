using Dapper;
using Npgsql;

namespace Authio.ControlPlane.Storage;

/// <summary>Brings the schema to the latest version at start-up; safe to run repeatedly and from several instances.</summary>
internal sealed partial class Migrator(Db db, TimeProvider time, ILogger<Migrator> logger)
{
    // Arbitrary constant so concurrent starts of several instances migrate one at a time.
    private const long AdvisoryLockId = 0x417574696F;

    public async Task MigrateAsync(CancellationToken ct)
    {
        LogStorage(db.Dialect, db.HasSeparateAdmin);
        await using var conn = await db.OpenAsync(admin: true, ct);
        if (db.Dialect == Dialect.Postgres)
        {
            await conn.ExecuteAsync("SELECT pg_advisory_lock(@id)", new { id = AdvisoryLockId });
        }

        try
        {
            await conn.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
            var applied = (await conn.QueryAsync<long>("SELECT version FROM schema_migrations")).ToHashSet();
            var pending = Schema.All.Where(m => !applied.Contains(m.Version)).OrderBy(m => m.Version).ToList();
            foreach (var m in pending)
            {
                await using var tx = await conn.BeginTransactionAsync(ct);
                var sql = Schema.Sql(m, db.Dialect);
                if (!string.IsNullOrWhiteSpace(sql))
                {
                    await conn.ExecuteAsync(sql, transaction: tx);
                }

                await conn.ExecuteAsync("INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @a)",
                    new { v = (long)m.Version, n = m.Name, a = time.GetUtcNow().ToString("O") }, tx);
                await tx.CommitAsync(ct);
                LogApplied(m.Version, m.Name);
            }
            if (pending.Count == 0)
            {
                LogUpToDate(Schema.All[^1].Version);
            }

            if (db.Dialect == Dialect.Postgres)
            {
                await GrantAndCheckAsync(conn);
            }
            else
            {
                await conn.ExecuteAsync("PRAGMA journal_mode = WAL");
            }
        }
        finally
        {
            if (db.Dialect == Dialect.Postgres)
            {
                await conn.ExecuteAsync("SELECT pg_advisory_unlock(@id)", new { id = AdvisoryLockId });
            }
        }
    }

    private async Task GrantAndCheckAsync(System.Data.Common.DbConnection adminConn)
    {
        var appUser = new NpgsqlConnectionStringBuilder(db.AppConnectionString).Username;
        if (db.HasSeparateAdmin && !string.IsNullOrEmpty(appUser))
        {
            var role = "\"" + appUser.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            await adminConn.ExecuteAsync($"""
                GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
                GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
                GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role};
                """);
        }
        // The isolation guarantee only holds for a role that neither owns the tables nor bypasses RLS; say so loudly.
        await using var appConn = await db.OpenAsync(admin: false, CancellationToken.None);
        var bypass = await appConn.ExecuteScalarAsync<bool>("""
            SELECT r.rolsuper OR r.rolbypassrls OR EXISTS (SELECT 1 FROM pg_tables t WHERE t.tablename = 'sessions' AND t.tableowner = current_user)
            FROM pg_roles r WHERE r.rolname = current_user
            """);
        if (bypass)
        {
            LogRlsNotEffective();
        }
    }
}
