using System.Text.Json;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.Redis;
using Authio.Shared.Sync;
using StackExchange.Redis;

namespace Authio.ControlPlane.EdgeSync;

/// <summary>
/// Mirrors the change log into the Redis stream edges read (<c>{seq}-0</c> ids, so order and resumption follow the
/// log), then announces the new sequence. Woken by this instance's commits and every 250 ms for other instances';
/// entries another instance already mirrored are skipped (Redis refuses ids not above the last). The stream is
/// trimmed by length; an edge that falls behind the trimmed start takes a snapshot. Every entry, whatever its type, is
/// signed with the feed key (<see cref="EdgeFeedSigner"/>): edges apply no entry they cannot verify.
/// </summary>
internal sealed partial class RedisChangePublisher(EdgeChangeStore log, EdgeFeedSigner signer, ControlPlaneRedis shared, TimeProvider time,
    RedisHealth health, ILogger<RedisChangePublisher> logger)
    : BackgroundService
{
    private readonly RedisRevocationMirror _mirror = new(log, time, logger);

    private const int MaxStreamLength = 100_000;
    private static readonly RedisChannel Notify = RedisChannel.Literal(EdgeSyncPaths.RedisNotifyChannel);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IConnectionMultiplexer? redis = null;
        long published = -1;
        while (!stoppingToken.IsCancellationRequested)
        {
            var signal = log.Signal;
            try
            {
                if (redis is null)
                {
                    redis = await shared.ConnectAsync();
                    // A Redis that restarted may have lost the revocation set: check it again, seed it if it is gone.
                    redis.ConnectionRestored += (_, _) => _mirror.Invalidate();
                }
                var db = redis.GetDatabase();
                if (published < 0)
                {
                    var last = await db.StreamRangeAsync(EdgeSyncPaths.RedisStream, "-", "+", count: 1, messageOrder: Order.Descending);
                    published = last.Length == 0 ? 0 : long.Parse(((string)last[0].Id!).Split('-')[0], System.Globalization.CultureInfo.InvariantCulture);
                    // A stream ahead of the log is another log's (a database reset or replaced, Redis kept): none of its
                    // entries verify at edges following this log, and this log's changes could not be appended until they
                    // passed it. Start the stream again; edges read the gap from the HTTP feed meanwhile, as for any gap.
                    var head = await log.LastSequenceAsync(stoppingToken);
                    if (published > head)
                    {
                        Log.ForeignStream(logger, published, head);
                        await db.KeyDeleteAsync(EdgeSyncPaths.RedisStream);
                        published = 0;
                    }
                }
                await _mirror.EnsureSeededAsync(db, stoppingToken);
                published = await PublishAfterAsync(db, published, stoppingToken);
                health.Up();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                Log.PublishFailed(logger, ex.Message);
                health.Down(ex.GetType().Name);
                _mirror.Invalidate();
                published = -1; // re-read the stream's position once Redis answers again
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            await Task.WhenAny(signal, Task.Delay(250, stoppingToken)).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async Task<long> PublishAfterAsync(IDatabase db, long published, CancellationToken cancellationToken)
    {
        while (true)
        {
            var rows = await log.ChangesAfterAsync(published, EdgeScope.Everyone, cancellationToken);
            if (rows.Count == 0)
            {
                return published;
            }
            // One pipeline (Redis runs a connection's commands in order): the exact set, the stream entries, then the
            // announcement. An edge that reads an entry before its id reaches the set still holds it in its own tail.
            var mirror = _mirror.MirrorAsync(db, rows);
            var appends = new Task[rows.Count];
            for (var i = 0; i < rows.Count; i++)
            {
                var change = rows[i].ToChange();
                appends[i] = AppendAsync(db, change, signer);
            }
            published = rows[^1].Seq;
            var announce = db.PublishAsync(Notify, published);
            await Task.WhenAll([mirror, .. appends, announce]); // every failure observed, the first one thrown
        }
    }

    private static async Task AppendAsync(IDatabase db, EdgeChange change, EdgeFeedSigner signer)
    {
        // The signature covers exactly the bytes stored, so the edge verifies what it is about to parse.
        var json = JsonSerializer.Serialize(change);
        NameValueEntry[] fields =
        [
            new(EdgeSyncPaths.RedisChangeField, json),
            new(EdgeSyncPaths.RedisSignatureField, signer.Sign(json)),
            new(EdgeSyncPaths.RedisKeyIdField, signer.KeyId),
        ];
        try
        {
            await db.StreamAddAsync(EdgeSyncPaths.RedisStream, fields, $"{change.Sequence}-0", maxLength: MaxStreamLength, useApproximateMaxLength: true);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("equal or smaller", StringComparison.Ordinal))
        {
            // Another instance mirrored it first.
        }
    }
}
