namespace Authio.ControlPlane.Hosting;

public static partial class ControlPlaneApp
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.UnhandledError, Level = LogLevel.Error, Message = "Unhandled error")]
        public static partial void Unhandled(ILogger logger, Exception? ex);
    }
}
