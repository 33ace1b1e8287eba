using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Mfa;

internal sealed partial class StepUp
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.StepUpRequired, Level = LogLevel.Information, Message = "Step-up required for {Action} by user {UserId} in org {OrgId}")]
        public static partial void Required(ILogger logger, string orgId, string userId, string action);
    }
}
