using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.ApiKeys;

internal sealed partial class ApiKeyUsageReporter
{
    [LoggerMessage(EdgeLogEvents.ApiKeyUsageReportFailed, LogLevel.Warning, "Reporting usage of {Keys} API key(s) failed; counts kept for the next report: {Reason}")]
    private static partial void LogReportFailed(ILogger logger, int keys, string reason);
}
