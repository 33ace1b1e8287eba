using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Authio.ControlPlane.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Authio.ControlPlane.Storage;

internal enum Dialect { Sqlite, Postgres }

/// <summary>
/// The one way to reach the store. Org-scoped work goes through <see cref="InOrgAsync{T}"/>, which on
/// PostgreSQL sets <c>app.org_id</c> for the transaction so row-level security confines every query.
/// </summary>
internal sealed class Db
{
    private readonly string _appConnectionString;
    private readonly string _adminConnectionString;

    public Db(Dialect dialect, string appConnectionString, string? adminConnectionString)
    {
        Dialect = dialect;
        _sqliteWriter = dialect == Dialect.Sqlite ? new SemaphoreSlim(1, 1) : null;
        _appConnectionString = appConnectionString;
        _adminConnectionString = adminConnectionString ?? appConnectionString;
        HasSeparateAdmin = adminConnectionString is not null;
    }

    public Dialect Dialect { get; }

    // SQLite has one writer and every transaction here begins IMMEDIATE (takes the write lock at BEGIN). SQLite's busy
    // handler, and Microsoft.Data.Sqlite's retry after it, wait by sleeping the calling thread: with many requests
    // queued, each held a thread-pool thread while the lock holder's continuation waited for a thread, and the process
    // stalled until waits hit the 30 s timeout ("database is locked"). Queueing here waits without a thread, in order.
    private readonly SemaphoreSlim? _sqliteWriter;

    /// <summary>How long a transaction waits for SQLite's writer before the request is answered 503.</summary>
    public static readonly TimeSpan SqliteWriterWait = TimeSpan.FromSeconds(30);

    // True in the async flow that holds the writer (set by the caller of the transaction, so it flows into the work):
    // a transaction opened inside another (a bug on SQLite) then fails on SQLite's own busy timeout, as before,
    // instead of waiting for itself forever.
    private readonly AsyncLocal<bool> _holdsSqliteWriter = new();

    private async ValueTask<bool> EnterSqliteWriterAsync(CancellationToken ct)
    {
        if (_sqliteWriter is null || _holdsSqliteWriter.Value)
        {
            return false;
        }

        return await _sqliteWriter.WaitAsync(SqliteWriterWait, ct) ? true : throw new StoreBusyException();
    }

    private async Task<T> AsSqliteWriterAsync<T>(Func<Task<T>> transaction, CancellationToken ct)
    {
        if (!await EnterSqliteWriterAsync(ct))
        {
            return await transaction();
        }

        _holdsSqliteWriter.Value = true;
        try
        {
            return await transaction();
        }
        finally
        {
            _holdsSqliteWriter.Value = false;
            _sqliteWriter!.Release();
        }
    }

    /// <summary>Dapper maps <c>snake_case</c> columns onto PascalCase members (process-wide; idempotent).</summary>
    public static void MapSnakeCaseColumns() => Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;

    private readonly ConditionalWeakTable<DbTransaction, List<Action>> _afterCommit = [];

    /// <summary>Runs <paramref name="action"/> once <paramref name="tx"/> (opened by this class) has committed; never if it rolls back.</summary>
    public void AfterCommit(DbTransaction tx, Action action) => _afterCommit.GetOrCreateValue(tx).Add(action);

    private void Committed(DbTransaction tx)
    {
        if (!_afterCommit.TryGetValue(tx, out var actions))
        {
            return;
        }

        _afterCommit.Remove(tx);
        foreach (var action in actions)
        {
            action();
        }
    }

    /// <summary>True when migrations run as a different (owner) role than the service.</summary>
    public bool HasSeparateAdmin { get; }

    public string AppConnectionString => _appConnectionString;

    public async Task<DbConnection> OpenAsync(bool admin, CancellationToken ct)
    {
        var cs = admin ? _adminConnectionString : _appConnectionString;
        DbConnection conn = Dialect == Dialect.Postgres ? new NpgsqlConnection(cs) : new SqliteConnection(cs);
        // Pool checkout (or a new physical connection) is the wait an operator sees when the pool runs dry; failures
        // (a pool timeout) are timed too, so the histogram's tail shows them.
        var started = Stopwatch.GetTimestamp();
        try
        {
            await conn.OpenAsync(ct);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
        finally
        {
            ControlPlaneMetrics.ConnectionWaited(Stopwatch.GetElapsedTime(started));
        }
        DbConnectionStats.CheckedOut(conn);
        if (conn is SqliteConnection)
        {
            try
            {
                await using var cmd = conn.CreateCommand();
                cmd.CommandText = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";
                await cmd.ExecuteNonQueryAsync(ct);
            }
            catch
            {
                await conn.DisposeAsync();
                throw;
            }
        }
        return conn;
    }

    /// <summary>Runs <paramref name="work"/> in one transaction confined to <paramref name="orgId"/>.</summary>
    public async Task<T> InOrgAsync<T>(string orgId, Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct = default,
        [CallerMemberName] string operation = "")
    {
        using var span = StorageTracing.Start(Dialect, "org", operation);
        try
        {
            return await InOrgCoreAsync(orgId, work, ct);
        }
        catch (Exception error) when (StorageTracing.Failed(span, error))
        {
            throw;
        }
    }

    private Task<T> InOrgCoreAsync<T>(string orgId, Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        return _sqliteWriter is null ? InOrgTransactionAsync(orgId, work, ct) : AsSqliteWriterAsync(() => InOrgTransactionAsync(orgId, work, ct), ct);
    }

    private async Task<T> InOrgTransactionAsync<T>(string orgId, Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        await using var conn = await OpenAsync(admin: false, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (Dialect == Dialect.Postgres)
        {
            await using var cmd = conn.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "SELECT set_config('app.org_id', @org, true)";
            var p = cmd.CreateParameter();
            p.ParameterName = "org";
            p.Value = orgId;
            cmd.Parameters.Add(p);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        var result = await work(conn, tx);
        await tx.CommitAsync(ct);
        Committed(tx);
        return result;
    }

    /// <summary>A unique constraint lost a race: an expected conflict, not a bug.</summary>
    public static bool IsUniqueViolation(DbException ex) =>
        ex is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } or SqliteException { SqliteErrorCode: 19 };

    /// <summary>Runs <paramref name="work"/> in one transaction on tables that are not org-scoped (users, orgs, signing keys).</summary>
    public async Task<T> GlobalAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct = default,
        [CallerMemberName] string operation = "")
    {
        using var span = StorageTracing.Start(Dialect, "global", operation);
        try
        {
            return await GlobalCoreAsync(work, ct);
        }
        catch (Exception error) when (StorageTracing.Failed(span, error))
        {
            throw;
        }
    }

    private Task<T> GlobalCoreAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        return _sqliteWriter is null ? GlobalTransactionAsync(work, ct) : AsSqliteWriterAsync(() => GlobalTransactionAsync(work, ct), ct);
    }

    private async Task<T> GlobalTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        await using var conn = await OpenAsync(admin: false, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var result = await work(conn, tx);
        await tx.CommitAsync(ct);
        Committed(tx);
        return result;
    }
}
