using Authio.ControlPlane.Storage;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// SQLite has one writer. Many requests at once, each holding its transaction across a real await (as a service does
/// around hashing, audit or I/O), all commit: waiting for the writer must not take the threads the holder needs to finish.
/// </summary>
public sealed class SqliteWriterQueueTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("authio-sqlite-queue-").FullName;

    private Db NewDb() => new(Dialect.Sqlite, new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(_dir, "controlplane.db"),
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString(), null);

    [Fact]
    public async Task Concurrent_transactions_that_await_inside_all_commit()
    {
        var db = NewDb();
        await db.GlobalAsync((c, tx) => c.ExecuteAsync("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)", transaction: tx));
        const int Writers = 128;

        var writers = Enumerable.Range(0, Writers).Select(i => Task.Run(() => db.GlobalAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("INSERT INTO t (id, n) VALUES (@i, 0)", new { i }, tx);
            await Task.Delay(5);
            return await c.ExecuteAsync("UPDATE t SET n = n + 1 WHERE id = @i", new { i }, tx);
        }))).ToArray();
        var updated = await Task.WhenAll(writers);

        Assert.All(updated, n => Assert.Equal(1, n));
        Assert.Equal(Writers, await db.GlobalAsync((c, tx) => c.ExecuteScalarAsync<int>("SELECT count(*) FROM t WHERE n = 1", transaction: tx)));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
