using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Mfa;

internal sealed partial class MfaSignIn
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.MfaStepUp, Level = LogLevel.Information, Message = "User {UserId} in org {OrgId} stepped up with {Method}")]
        public static partial void SteppedUp(ILogger logger, string orgId, string userId, string method);
    }
}
