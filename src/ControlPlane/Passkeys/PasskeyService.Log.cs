using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Passkeys;

internal sealed partial class PasskeyService
{
    private static partial class Log
    {
        [LoggerMessage(LogEvents.PasskeyRegistered, LogLevel.Information, "Passkey {PasskeyId} registered for user {UserId}")]
        public static partial void Registered(ILogger logger, string passkeyId, string userId);

        [LoggerMessage(LogEvents.PasskeyRemoved, LogLevel.Information, "Passkey {PasskeyId} of user {UserId} removed")]
        public static partial void Removed(ILogger logger, string passkeyId, string userId);

        [LoggerMessage(LogEvents.PasskeyPayloadRejected, LogLevel.Debug, "Passkey {Ceremony} refused: {Error}: {Reason}")]
        public static partial void PayloadRejected(ILogger logger, string ceremony, string error, string reason);
    }
}
