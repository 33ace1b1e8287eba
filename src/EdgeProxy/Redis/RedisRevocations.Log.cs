using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Redis;

internal sealed partial class RedisRevocations
{
    [LoggerMessage(EdgeLogEvents.RevocationExactSetUnavailable, LogLevel.Warning,
        "Revocation: the exact set in Redis cannot be consulted (unreachable, or its data was lost); bloom-filter positives are {Outcome}")]
    private static partial void LogUnavailable(ILogger logger, string outcome);
}
