using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Audit;

internal sealed partial class AuditSeals
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.AuditChainUpgraded, Level = LogLevel.Information, Message = "Audit chain of org {OrgId} upgraded to keyed MACs ({Count} events)")]
        public static partial void ChainUpgraded(ILogger logger, string orgId, int count);

        [LoggerMessage(EventId = LogEvents.AuditChainNotUpgraded, Level = LogLevel.Error, Message = "Audit chain of org {OrgId} is broken at seq {Seq}: events from there on were not given MACs and fail verification")]
        public static partial void ChainNotUpgraded(ILogger logger, string orgId, long seq);

        [LoggerMessage(EventId = LogEvents.AuditCheckpointFailed, Level = LogLevel.Error, Message = "Audit checkpoint of org {OrgId} failed")]
        public static partial void CheckpointFailed(ILogger logger, string orgId, Exception ex);

        [LoggerMessage(EventId = LogEvents.AuditCutRefused, Level = LogLevel.Error, Message = "Audit retention for org {OrgId} refused: the chain is broken at seq {Seq}; the events stay as evidence")]
        public static partial void CutRefused(ILogger logger, string orgId, long seq);
    }
}
