using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Mfa;

internal sealed partial class MfaService
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.MfaSucceeded, Level = LogLevel.Information, Message = "Second factor {Method} accepted for user {UserId} in org {OrgId}")]
        public static partial void Succeeded(ILogger logger, string orgId, string userId, string method);

        [LoggerMessage(EventId = LogEvents.MfaFailed, Level = LogLevel.Information, Message = "Second factor refused for user {UserId} in org {OrgId}: {Reason}")]
        public static partial void Failed(ILogger logger, string orgId, string userId, string reason);

        [LoggerMessage(EventId = LogEvents.MfaTotpEnrolled, Level = LogLevel.Information, Message = "User {UserId} in org {OrgId} enrolled an authenticator")]
        public static partial void TotpEnrolled(ILogger logger, string orgId, string userId);

        [LoggerMessage(EventId = LogEvents.MfaTotpRemoved, Level = LogLevel.Information, Message = "User {UserId} in org {OrgId} removed their authenticator")]
        public static partial void TotpRemoved(ILogger logger, string orgId, string userId);

        [LoggerMessage(EventId = LogEvents.MfaRecoveryCodeUsed, Level = LogLevel.Warning, Message = "User {UserId} in org {OrgId} used a recovery code")]
        public static partial void RecoveryCodeUsed(ILogger logger, string orgId, string userId);

        [LoggerMessage(EventId = LogEvents.MfaLocked, Level = LogLevel.Warning, Message = "User {UserId} locked out after repeated second-factor failures")]
        public static partial void Locked(ILogger logger, string userId);
    }
}
