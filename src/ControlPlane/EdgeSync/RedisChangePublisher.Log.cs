using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.EdgeSync;

internal sealed partial class RedisChangePublisher
{
    private static partial class Log
    {
        [LoggerMessage(LogEvents.RedisPublishFailed, LogLevel.Warning, "Mirroring edge changes to Redis failed; edges fall back to the HTTP feed until it recovers: {Reason}")]
        public static partial void PublishFailed(ILogger logger, string reason);

        [LoggerMessage(LogEvents.RedisForeignStream, LogLevel.Warning,
            "The Redis edge stream ends at {StreamSequence}, beyond this change log's {LogSequence}: it belongs to another log and is started again")]
        public static partial void ForeignStream(ILogger logger, long streamSequence, long logSequence);
    }
}
