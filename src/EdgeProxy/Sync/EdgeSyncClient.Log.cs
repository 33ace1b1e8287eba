using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Sync;

internal sealed partial class EdgeSyncClient
{
    [LoggerMessage(EdgeLogEvents.SyncSnapshot, LogLevel.Information, "Edge sync: snapshot at sequence {Sequence} applied (issuer {Issuer}, {Revoked} revoked ids)")]
    private static partial void LogSnapshot(ILogger logger, long sequence, string issuer, int revoked);

    [LoggerMessage(EdgeLogEvents.SyncApplied, LogLevel.Debug, "Edge sync: {Count} change(s) applied, now at sequence {Sequence}")]
    private static partial void LogApplied(ILogger logger, int count, long sequence);

    [LoggerMessage(EdgeLogEvents.SyncFailed, LogLevel.Warning, "Edge sync: feed unavailable, last state kept ({ErrorType}: {Reason})")]
    private static partial void LogFeedFailed(ILogger logger, string errorType, string reason);

    [LoggerMessage(EdgeLogEvents.SyncRedisFallback, LogLevel.Warning, "Edge sync: Redis stream unavailable, reading the HTTP feed instead ({Reason})")]
    private static partial void LogRedisFallback(ILogger logger, string reason);

    [LoggerMessage(EdgeLogEvents.SyncOrgRateLimitRefused, LogLevel.Warning, "Edge sync: rate limit '{Limit}' of org {Org} refused, its last good limit kept: {Reason}")]
    private static partial void LogOrgRateLimitRefused(ILogger logger, string org, string limit, string reason);

    [LoggerMessage(EdgeLogEvents.SyncFeedEntryRejected, LogLevel.Warning,
        "Edge sync: Redis stream entry {EntryId} not applied ({Reason}); that range is read from the control plane instead")]
    private static partial void LogFeedEntryRejected(ILogger logger, string entryId, string reason);

    [LoggerMessage(EdgeLogEvents.SyncFeedKeyUnusable, LogLevel.Error,
        "Edge sync: the snapshot's feed key {Kid} ({Algorithm}) cannot be used; only revocations are taken from Redis, everything else over HTTP")]
    private static partial void LogFeedKeyUnusable(ILogger logger, string kid, string algorithm);

    [LoggerMessage(EdgeLogEvents.SyncFeedWithoutKey, LogLevel.Debug,
        "Edge sync: the control plane publishes no feed key; Redis stream entry {EntryId} is not a revocation and is read over HTTP")]
    private static partial void LogFeedWithoutKey(ILogger logger, string entryId);

    [LoggerMessage(EdgeLogEvents.SyncOrgRateLimitApplied, LogLevel.Information, "Edge sync: org {Org} rate limit now {Limit}")]
    private static partial void LogOrgRateLimitApplied(ILogger logger, string org, string limit);

    [LoggerMessage(EdgeLogEvents.SyncCatchUpFailed, LogLevel.Warning, "Edge sync: reading the feed for an unknown kid failed ({ErrorType}: {Reason})")]
    private static partial void LogCatchUpFailed(ILogger logger, string errorType, string reason);
}
