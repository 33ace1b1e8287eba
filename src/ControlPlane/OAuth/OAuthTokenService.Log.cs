using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.OAuth;

internal sealed partial class OAuthTokenService
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.TokenRevoked, Level = LogLevel.Information, Message = "Access token of session {SessionId} in org {OrgId} revoked")]
        public static partial void AccessTokenRevoked(ILogger logger, string orgId, string sessionId);
    }
}
