using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.DataSubjects;

internal sealed partial class DataSubjectService
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.DataSubjectExported, Level = LogLevel.Information,
            Message = "Data-subject export {ExportId} of org {OrgId} built: {Records} records, {Bytes} bytes")]
        public static partial void Exported(ILogger logger, string orgId, string exportId, long records, long bytes);

        [LoggerMessage(EventId = LogEvents.DataSubjectErased, Level = LogLevel.Information,
            Message = "Person {Subject} erased from org {OrgId} (identity erased: {IdentityErased}; sessions ended {Sessions}, API keys revoked {Keys}, audit events redacted {Redacted})")]
        public static partial void Erased(ILogger logger, string orgId, string subject, bool identityErased, int sessions, int keys, int redacted);
    }
}
