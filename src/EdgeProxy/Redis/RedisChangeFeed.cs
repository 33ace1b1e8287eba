using System.Text.Json;
using Authio.EdgeProxy.Sync;
using Authio.Shared.Sync;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Redis;

/// <summary>
/// Reads the control plane's change log from a Redis stream (entry id <c>{seq}-0</c>, field <c>change</c>), woken at
/// once by the pub/sub notification the control plane sends after each append. Many edges add no load on the control
/// plane. StackExchange.Redis multiplexes one connection and cannot issue blocking XREADs, hence notify + XRANGE.
/// Redis is not trusted: each entry must carry the control plane's signature of its exact <c>change</c> bytes and a
/// sequence equal to its entry id (no replay of an old genuine entry under a new id); the first entry that fails is
/// reported and nothing from that read is applied, so the caller reads the range over HTTP instead. While Redis is
/// down (<see cref="EdgeRedis.IsAvailable"/>) every read throws at once and the caller uses the HTTP feed.
/// </summary>
internal sealed class RedisChangeFeed(EdgeRedis redis) : IDisposable
{
    private const int BatchSize = 1000;
    private static readonly RedisChannel Notify = RedisChannel.Literal(EdgeSyncPaths.RedisNotifyChannel);
    /// <summary>How long the first read waits for the shared connection to exist.</summary>
    private static readonly TimeSpan FirstConnectWait = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _subscribeLock = new(1, 1);
    private volatile bool _subscribed;
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Changes after <paramref name="after"/>; waits up to <paramref name="wait"/> for a notification when there are none.
    /// A non-null rejection means the batch is empty and the range must be read from the control plane.
    /// </summary>
    public async Task<(EdgeChangeBatch Batch, FeedRejection? Rejection)> NextAsync(long after, TimeSpan wait, FeedTrust trust, CancellationToken cancellationToken)
    {
        var db = (await ConnectAsync(cancellationToken)).GetDatabase();
        try
        {
            var signal = Volatile.Read(ref _signal).Task;
            var read = await ReadAsync(db, after, trust);
            if (read.Batch.Changes.Length > 0 || read.Batch.Reset || read.Rejection is not null)
            {
                redis.ReportSuccess();
                return read;
            }
            await Task.WhenAny(signal, Task.Delay(wait, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
            read = await ReadAsync(db, after, trust);
            redis.ReportSuccess();
            return read;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            redis.ReportFailure(ex);
            throw;
        }
    }

    private static async Task<(EdgeChangeBatch Batch, FeedRejection? Rejection)> ReadAsync(IDatabase db, long after, FeedTrust trust)
    {
        // The oldest retained entry tells whether anything after 'after' was trimmed away: then only a snapshot is safe.
        // Both reads in one round trip.
        var oldestRead = db.StreamRangeAsync(EdgeSyncPaths.RedisStream, "-", "+", count: 1);
        var entriesRead = db.StreamRangeAsync(EdgeSyncPaths.RedisStream, $"{after + 1}-0", "+", count: BatchSize);
        var oldest = await oldestRead;
        var entries = await entriesRead;
        if (oldest.Length > 0 && SequenceOf(oldest[0].Id) > after + 1 && after > 0)
        {
            return (new EdgeChangeBatch(after, [], Reset: true), null);
        }
        var changes = new EdgeChange[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            if (Verify(entries[i], trust, out var change) is { } reason)
            {
                return (new EdgeChangeBatch(after, [], Reset: false), new FeedRejection(entries[i].Id.ToString(), reason));
            }
            changes[i] = change!;
        }
        return (new EdgeChangeBatch(changes.Length > 0 ? changes[^1].Sequence : after, changes, Reset: false), null);
    }

    /// <summary>Null and the change when the entry may be applied; otherwise why not (<see cref="FeedRejectionReasons"/>).</summary>
    internal static string? Verify(StreamEntry entry, FeedTrust trust, out EdgeChange? change)
    {
        change = null;
        var raw = entry[EdgeSyncPaths.RedisChangeField];
        if (raw.IsNull)
        {
            return FeedRejectionReasons.Malformed;
        }
        var bytes = (byte[])raw!;
        if (trust.Key is { } key)
        {
            var signature = (string?)entry[EdgeSyncPaths.RedisSignatureField];
            if (signature is null)
            {
                return FeedRejectionReasons.Unsigned;
            }
            if ((string?)entry[EdgeSyncPaths.RedisKeyIdField] != trust.KeyId)
            {
                return FeedRejectionReasons.UnknownKey;
            }
            if (!EdgeFeedSignature.Verify(key, bytes, signature))
            {
                return FeedRejectionReasons.BadSignature;
            }
        }
        try
        {
            change = JsonSerializer.Deserialize<EdgeChange>(bytes);
        }
        catch (JsonException)
        {
            return FeedRejectionReasons.Malformed;
        }
        if (!FeedRecords.IsComplete(change))
        {
            change = null;
            return FeedRejectionReasons.Malformed;
        }
        if (!TrySequenceOf(entry.Id, out var sequence) || change.Sequence != sequence)
        {
            change = null;
            return FeedRejectionReasons.SequenceMismatch;
        }
        if (trust.Key is null && change.Type != EdgeChangeTypes.Revocation)
        {
            change = null;
            return FeedRejectionReasons.NotTrustedWithoutKey;
        }
        return null;
    }

    private static bool TrySequenceOf(RedisValue id, out long sequence)
    {
        var text = (string?)id ?? "";
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        return long.TryParse(dash < 0 ? text : text[..dash], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sequence);
    }

    private static long SequenceOf(RedisValue id) => long.Parse(((string)id!).Split('-')[0], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The shared connection, subscribed to the notification channel; throws while Redis is known to be down.</summary>
    private async Task<IConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = redis.Connection ?? await redis.ConnectedAsync(cancellationToken).WaitAsync(FirstConnectWait, cancellationToken);
        if (!redis.IsAvailable)
        {
            throw new TimeoutException("Redis is not reachable");
        }
        if (!_subscribed)
        {
            await _subscribeLock.WaitAsync(cancellationToken);
            try
            {
                if (!_subscribed)
                {
                    // The multiplexer re-subscribes by itself after a reconnect.
                    await connection.GetSubscriber().SubscribeAsync(Notify, (_, _) =>
                        Interlocked.Exchange(ref _signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult());
                    _subscribed = true;
                }
            }
            finally
            {
                _subscribeLock.Release();
            }
        }
        return connection;
    }

    public void Dispose() => _subscribeLock.Dispose();
}
