using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Sessions;

internal sealed partial class SessionService
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.RefreshReuse, Level = LogLevel.Warning,
            Message = "Refresh token reuse in org {OrgId}; session {SessionId} revoked")]
        public static partial void RefreshReuse(ILogger logger, string orgId, string sessionId);
    }
}
