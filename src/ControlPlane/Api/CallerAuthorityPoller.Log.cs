using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Api;

internal sealed partial class CallerAuthorityPoller
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.AuthorityPollFailed, Level = LogLevel.Warning,
            Message = "Reading the change log for the admin API's authority cache failed; every request reads the store until it recovers")]
        public static partial void PollFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = LogEvents.AuthorityPollRecovered, Level = LogLevel.Information,
            Message = "The admin API's authority cache follows the change log again")]
        public static partial void PollRecovered(ILogger logger);
    }
}
