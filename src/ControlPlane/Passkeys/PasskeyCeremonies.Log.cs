using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Passkeys;

internal sealed partial class PasskeyCeremonies
{
    private static partial class Log
    {
        [LoggerMessage(LogEvents.PasskeyAssertionRefused, LogLevel.Information, "Passkey assertion refused ({Code}) for user {UserId}")]
        public static partial void AssertionRefused(ILogger logger, string code, string userId);

        [LoggerMessage(LogEvents.PasskeyCounterRegression, LogLevel.Warning,
            "Passkey {PasskeyId} of user {UserId} presented sign counter {Presented} after {Stored}: possibly cloned, refused")]
        public static partial void CounterRegression(ILogger logger, string passkeyId, string userId, long stored, long presented);

        [LoggerMessage(LogEvents.PasskeyPayloadRejected, LogLevel.Debug, "Passkey {Ceremony} refused: {Error}: {Reason}")]
        public static partial void PayloadRejected(ILogger logger, string ceremony, string error, string reason);
    }
}
