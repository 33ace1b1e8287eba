namespace Authio.EdgeProxy.Sync;

internal sealed partial class EdgeSyncClient
{
    /// <summary>
    /// Time since the feed last answered completely (the edge then knew it had every change), or null before its first
    /// answer after the snapshot. Read by the fleet status report.
    /// </summary>
    public TimeSpan? SinceLastFeedAnswer
    {
        get
        {
            var last = Volatile.Read(ref _lastContactTimestamp);
            return _hasSnapshot && last != 0 ? time.GetElapsedTime(last) : null;
        }
    }

    /// <summary>True when changes come from the Redis stream (configured and reachable); false: the HTTP long poll.</summary>
    public bool ReadsRedisFeed(bool redisAvailable) => _redisFeed is not null && redisAvailable;
}
