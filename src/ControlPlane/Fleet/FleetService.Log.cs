using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Fleet;

internal sealed partial class FleetService
{
    private static partial class Log
    {
        [LoggerMessage(LogEvents.FleetEdgeJoined, LogLevel.Information, "Edge {EdgeId} ({Version}) reports its status (edge key {KeyId})")]
        public static partial void EdgeJoined(ILogger logger, string edgeId, string version, string keyId);
    }
}
