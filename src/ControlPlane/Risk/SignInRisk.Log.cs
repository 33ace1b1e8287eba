using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Risk;

internal sealed partial class SignInRisk
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.SignInBurstDetected, Level = LogLevel.Warning,
            Message = "Sign-in failures from one address look like {Reason}: {Accounts} accounts ({Unknown} unknown) with {Passwords} passwords")]
        public static partial void Burst(ILogger logger, string reason, int accounts, int unknown, int passwords);

        [LoggerMessage(EventId = LogEvents.SuspiciousSignIn, Level = LogLevel.Information, Message = "Suspicious sign-in in org {OrgId}: {Reasons} (score {Score})")]
        public static partial void Suspicious(ILogger logger, string orgId, string reasons, int score);
    }
}
