using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.SigningKeys;

internal sealed partial class MasterKey
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.MasterKeyGenerated, Level = LogLevel.Warning,
            Message = "No ControlPlane:MasterKey configured; generated one at {Path}. Set ControlPlane:MasterKey (32 bytes, base64) in production.")]
        public static partial void Generated(ILogger logger, string path);
    }
}
