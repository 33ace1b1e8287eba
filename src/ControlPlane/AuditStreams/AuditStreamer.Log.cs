using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.AuditStreams;

internal sealed partial class AuditStreamer
{
    [LoggerMessage(EventId = LogEvents.AuditStreamFailed, Level = LogLevel.Warning,
        Message = "Audit stream {Stream} could not deliver ({ErrorType}: {ErrorMessage}); it retries from where it stopped")]
    private static partial void LogFailed(ILogger logger, string stream, string errorType, string errorMessage);
}
