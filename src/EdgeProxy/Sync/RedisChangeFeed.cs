using System.Text.Json;
using Authio.Shared.Sync;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Sync;

/// <summary>
/// Reads the control plane's change log from a Redis stream (entry id <c>{seq}-0</c>, field <c>change</c>), woken at
/// once by the pub/sub notification the control plane sends after each append. Many edges add no load on the control
/// plane. StackExchange.Redis multiplexes one connection and cannot issue blocking XREADs, hence notify + XRANGE.
/// </summary>
internal sealed class RedisChangeFeed(string configuration) : IAsyncDisposable
{
    private const int BatchSize = 1000;
    private static readonly RedisChannel Notify = RedisChannel.Literal(EdgeSyncPaths.RedisNotifyChannel);
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private ConnectionMultiplexer? _redis;
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Changes after <paramref name="after"/>; waits up to <paramref name="wait"/> for a notification when there are none.</summary>
    public async Task<EdgeChangeBatch> NextAsync(long after, TimeSpan wait, CancellationToken cancellationToken)
    {
        var db = (await ConnectAsync()).GetDatabase();
        var signal = Volatile.Read(ref _signal).Task;
        var batch = await ReadAsync(db, after);
        if (batch.Changes.Length > 0 || batch.Reset)
        {
            return batch;
        }
        await Task.WhenAny(signal, Task.Delay(wait, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
        return await ReadAsync(db, after);
    }

    private static async Task<EdgeChangeBatch> ReadAsync(IDatabase db, long after)
    {
        // The oldest retained entry tells whether anything after 'after' was trimmed away: then only a snapshot is safe.
        // Both reads in one round trip.
        var oldestRead = db.StreamRangeAsync(EdgeSyncPaths.RedisStream, "-", "+", count: 1);
        var entriesRead = db.StreamRangeAsync(EdgeSyncPaths.RedisStream, $"{after + 1}-0", "+", count: BatchSize);
        var oldest = await oldestRead;
        var entries = await entriesRead;
        if (oldest.Length > 0 && SequenceOf(oldest[0].Id) > after + 1 && after > 0)
        {
            return new EdgeChangeBatch(after, [], Reset: true);
        }
        var changes = new EdgeChange[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            var json = (string?)entries[i]["change"] ?? throw new JsonException($"stream entry {entries[i].Id} has no 'change' field");
            changes[i] = JsonSerializer.Deserialize<EdgeChange>(json) ?? throw new JsonException("empty change");
        }
        return new EdgeChangeBatch(changes.Length > 0 ? changes[^1].Sequence : after, changes, Reset: false);
    }

    private static long SequenceOf(RedisValue id) => long.Parse(((string)id!).Split('-')[0], System.Globalization.CultureInfo.InvariantCulture);

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        if (_redis is { IsConnected: true } connected)
        {
            return connected;
        }
        await _connectLock.WaitAsync();
        try
        {
            if (_redis is null)
            {
                var options = ConfigurationOptions.Parse(configuration);
                options.AbortOnConnectFail = false;
                options.ConnectTimeout = Math.Min(options.ConnectTimeout, 2000);
                _redis = await ConnectionMultiplexer.ConnectAsync(options);
                await _redis.GetSubscriber().SubscribeAsync(Notify, (_, _) =>
                    Interlocked.Exchange(ref _signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult());
            }
            if (!_redis.IsConnected)
            {
                throw new TimeoutException("Redis is not reachable");
            }
            return _redis;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
        _connectLock.Dispose();
    }
}
