using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Fleet;

internal sealed partial class FleetReporter
{
    [LoggerMessage(EdgeLogEvents.FleetReportFailed, LogLevel.Warning, "Fleet status report failed; its {Routes} route figure(s) are kept for the next report: {Reason}")]
    private static partial void LogReportFailed(ILogger logger, int routes, string reason);

    [LoggerMessage(EdgeLogEvents.FleetReportRefused, LogLevel.Warning, "The control plane refused the fleet status report ({Status}); its {Routes} route figure(s) are dropped")]
    private static partial void LogReportRefused(ILogger logger, int status, int routes);

    [LoggerMessage(EdgeLogEvents.FleetReporting, LogLevel.Information, "Reporting fleet status as edge {EdgeId} every {Interval}")]
    public static partial void LogReporting(ILogger logger, string edgeId, TimeSpan interval);
}
