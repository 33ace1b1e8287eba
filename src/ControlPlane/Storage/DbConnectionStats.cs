using System.Data;
using System.Data.Common;
using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;

namespace Authio.ControlPlane.Storage;

/// <summary>
/// Process-wide connection-pool use for <c>authio_controlplane_db_connections</c>. <b>used</b>: connections <see cref="Db"/>
/// has opened and not yet closed (checked out of the driver's pool), counted exactly on both stores. <b>idle</b>: open
/// connections the pool keeps for reuse. Npgsql reports its own count (its <c>db.client.connection.count</c> instrument,
/// read here on demand, summed over the process's pools). Microsoft.Data.Sqlite keeps closed connections open in its
/// pool but publishes no count, so SQLite's idle is an upper bound: the most connections ever open at once, less those
/// in use (the driver closes long-unused ones after a few minutes, which this cannot see).
/// </summary>
internal static class DbConnectionStats
{
    private static readonly StateChangeEventHandler Closed = OnStateChange;
    private static readonly Lock Gate = new();
    private static readonly MeterListener NpgsqlPools = Listen();
    private static int _sqliteUsed;
    private static int _sqlitePeak;
    private static int _npgsqlUsed;
    private static long _npgsqlIdle;

    /// <summary>A connection was opened: counted as used until its first close (dispose closes it).</summary>
    public static void CheckedOut(DbConnection connection)
    {
        if (connection is SqliteConnection)
        {
            var used = Interlocked.Increment(ref _sqliteUsed);
            for (var peak = Volatile.Read(ref _sqlitePeak); used > peak; peak = Volatile.Read(ref _sqlitePeak))
            {
                if (Interlocked.CompareExchange(ref _sqlitePeak, used, peak) == peak)
                {
                    break;
                }
            }
        }
        else
        {
            Interlocked.Increment(ref _npgsqlUsed);
        }
        connection.StateChange += Closed;
    }

    /// <summary>Used and idle connections now. Cheap (counters and the driver's in-memory pool statistics): safe per scrape.</summary>
    public static (long Used, long Idle) Snapshot()
    {
        var sqliteUsed = Volatile.Read(ref _sqliteUsed);
        var used = sqliteUsed + Volatile.Read(ref _npgsqlUsed);
        long npgsqlIdle;
        lock (Gate)
        {
            _npgsqlIdle = 0;
            NpgsqlPools.RecordObservableInstruments();
            npgsqlIdle = _npgsqlIdle;
        }
        return (used, Math.Max(0, Volatile.Read(ref _sqlitePeak) - sqliteUsed) + npgsqlIdle);
    }

    private static void OnStateChange(object sender, StateChangeEventArgs e)
    {
        // The first close after open ends the checkout (a broken Npgsql connection reports it too); unsubscribing makes
        // any later state change a no-op, so a connection is never subtracted twice.
        if (e.OriginalState.HasFlag(ConnectionState.Open) && !e.CurrentState.HasFlag(ConnectionState.Open) && sender is DbConnection connection)
        {
            connection.StateChange -= Closed;
            if (connection is SqliteConnection)
            {
                Interlocked.Decrement(ref _sqliteUsed);
            }
            else
            {
                Interlocked.Decrement(ref _npgsqlUsed);
            }
        }
    }

    private static MeterListener Listen()
    {
        // Only Npgsql's observable pool count is enabled: its per-command instruments stay off (no cost on queries).
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Npgsql" && instrument.Name is "db.client.connection.count" or "db.client.connections.usage")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) => AddIdle(value, tags));
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => AddIdle(value, tags));
        listener.Start();
        return listener;
    }

    private static void AddIdle(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key is "db.client.connection.state" or "state" && tag.Value is "idle")
            {
                _npgsqlIdle += value;
            }
        }
    }
}
