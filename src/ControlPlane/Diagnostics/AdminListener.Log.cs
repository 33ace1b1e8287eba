using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Diagnostics;

internal sealed partial class AdminListener
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.AdminListenerStarted, Level = LogLevel.Information, Message = "Admin listener (healthz, readyz, metrics) on {Addresses}")]
        public static partial void Started(ILogger logger, string addresses);
    }
}
