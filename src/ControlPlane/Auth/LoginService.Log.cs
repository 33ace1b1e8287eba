using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Auth;

internal sealed partial class LoginService
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.LoginSucceeded, Level = LogLevel.Information, Message = "Sign-in succeeded for user {UserId} in org {OrgId}")]
        public static partial void Succeeded(ILogger logger, string orgId, string userId);

        [LoggerMessage(EventId = LogEvents.LoginFailed, Level = LogLevel.Information, Message = "Sign-in failed: {Reason}")]
        public static partial void Failed(ILogger logger, string reason);

        [LoggerMessage(EventId = LogEvents.AccountLocked, Level = LogLevel.Warning, Message = "User {UserId} locked out after repeated failures")]
        public static partial void Locked(ILogger logger, string userId);

        [LoggerMessage(EventId = LogEvents.UnknownEmailLocked, Level = LogLevel.Information, Message = "An email without an account locked out after repeated failures")]
        public static partial void LockedUnknown(ILogger logger);

        [LoggerMessage(EventId = LogEvents.SignInStepUpRefused, Level = LogLevel.Warning,
            Message = "Sign-in of user {UserId} in org {OrgId} refused: risk score {Score} needs a second factor the user does not have")]
        public static partial void StepUpRefused(ILogger logger, string orgId, string userId, int score);
    }
}
