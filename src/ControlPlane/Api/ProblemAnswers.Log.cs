using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Api;

internal static partial class ProblemAnswers
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.UnhandledError, Level = LogLevel.Error, Message = "Unhandled error")]
        public static partial void Unhandled(ILogger logger, Exception? ex);
    }
}
