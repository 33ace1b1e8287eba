using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.EdgeSync;

internal sealed partial class EdgeSyncService
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.EdgeSnapshotServed, Level = LogLevel.Debug, Message = "Edge snapshot at sequence {Sequence} with {Count} revocations")]
        public static partial void Snapshot(ILogger logger, long sequence, int count);

        [LoggerMessage(EventId = LogEvents.EdgeFeedReset, Level = LogLevel.Information, Message = "Edge asked for changes after {After}, outside the retained log: reset")]
        public static partial void Reset(ILogger logger, long after);
    }
}
