using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.WebSockets;

internal sealed partial class LiveConnections
{
    [LoggerMessage(EdgeLogEvents.WebSocketClosedExpired, LogLevel.Information, "An upgraded connection was closed: its credential expired ({Code}; close frame sent: {CloseFrameSent})")]
    private static partial void LogClosedExpired(ILogger logger, string code, bool closeFrameSent);

    [LoggerMessage(EdgeLogEvents.WebSocketClosedRevoked, LogLevel.Information, "An upgraded connection was closed: its credential was revoked ({Code}; close frame sent: {CloseFrameSent})")]
    private static partial void LogClosedRevoked(ILogger logger, string code, bool closeFrameSent);

    [LoggerMessage(EdgeLogEvents.WebSocketRegistryFull, LogLevel.Warning, "An upgrade was refused: {Capacity} upgraded connections are live (Edge:WebSockets:MaxConnections)")]
    private static partial void LogFull(ILogger logger, int capacity);

    [LoggerMessage(EdgeLogEvents.WebSocketRecheckFailed, LogLevel.Warning, "Re-checking a live connection against the revocations failed ({ErrorType}); it is checked again on the next change")]
    private static partial void LogRecheckFailed(ILogger logger, string errorType);
}
