namespace Authio.ControlPlane.Hosting;

internal sealed partial class MaintenanceService
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.JobFailed, Level = LogLevel.Error, Message = "Maintenance round failed")]
        public static partial void Failed(ILogger logger, Exception ex);

        [LoggerMessage(EventId = LogEvents.MaintenanceStepFailed, Level = LogLevel.Error, Message = "Maintenance step {Step} failed; the other steps still ran")]
        public static partial void StepFailed(ILogger logger, string step, Exception ex);

        [LoggerMessage(EventId = LogEvents.AuditPruned, Level = LogLevel.Information, Message = "Pruned {Count} audit events past retention")]
        public static partial void Pruned(ILogger logger, int count);

        [LoggerMessage(EventId = LogEvents.EdgeChangesPruned, Level = LogLevel.Information, Message = "Pruned {Count} expired or superseded edge changes")]
        public static partial void ChangesPruned(ILogger logger, long count);
    }
}
