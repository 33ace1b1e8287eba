using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.ApiKeys;

internal sealed partial class ApiKeyAuthenticator
{
    [LoggerMessage(LogEvents.ApiKeyLookupFailed, LogLevel.Warning, "API key lookup failed and no cached record could stand in ({ErrorType}: {Reason}); the request was refused")]
    private static partial void LogLookupFailed(ILogger logger, string errorType, string reason);
}
