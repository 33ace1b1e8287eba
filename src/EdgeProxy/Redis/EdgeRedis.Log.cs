using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Redis;

internal sealed partial class EdgeRedis
{
    [LoggerMessage(EdgeLogEvents.RedisUnavailable, LogLevel.Warning,
        "Redis is unreachable ({ErrorType}: {Reason}): global rate limits fall back to each edge's share, bloom-filter revocation positives follow Edge:Revocation:FailClosed, the change feed is read over HTTP and API-key lookups skip the L2, until it returns")]
    private static partial void LogUnavailable(ILogger logger, string errorType, string reason);

    [LoggerMessage(EdgeLogEvents.RedisRecovered, LogLevel.Information, "Redis is reachable again: global rate limits, exact revocation checks, the Redis change feed and the API-key L2 are back")]
    private static partial void LogRecovered(ILogger logger);
}
