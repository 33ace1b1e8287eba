using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Audit;

internal sealed partial class AuditRetention
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.MaintenanceOrgFailed, Level = LogLevel.Error,
            Message = "Audit retention failed for org {OrgId}; the other orgs were pruned")]
        public static partial void OrgFailed(ILogger logger, string orgId, Exception ex);
    }
}
