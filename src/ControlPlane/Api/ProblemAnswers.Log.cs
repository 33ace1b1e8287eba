using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Api;

internal static partial class ProblemAnswers
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.UnhandledError, Level = LogLevel.Error, Message = "Unhandled error")]
        public static partial void Unhandled(ILogger logger, Exception? ex);

        // The exception's type and message only: a stack per refused request would flood the log while the store is down.
        [LoggerMessage(EventId = LogEvents.StoreUnavailable, Level = LogLevel.Warning, Message = "Answered 503: the database is busy or unreachable ({ErrorType}: {ErrorMessage})")]
        public static partial void StoreUnavailable(ILogger logger, string errorType, string errorMessage);
    }
}
