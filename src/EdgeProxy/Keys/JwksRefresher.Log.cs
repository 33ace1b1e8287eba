using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Keys;

internal sealed partial class JwksRefresher
{
    [LoggerMessage(EdgeLogEvents.JwksLoaded, LogLevel.Information, "JWKS for issuer {Issuer} loaded: {Count} key(s), kids [{Kids}]")]
    private static partial void LogLoaded(ILogger logger, string issuer, int count, string kids);

    [LoggerMessage(EdgeLogEvents.JwksRefused, LogLevel.Error, "JWKS for issuer {Issuer} refused, previous key set kept: {Reason}")]
    private static partial void LogRefused(ILogger logger, string issuer, string reason);

    [LoggerMessage(EdgeLogEvents.JwksFetchFailed, LogLevel.Warning, "JWKS fetch for issuer {Issuer} failed, previous key set kept: {Reason}")]
    private static partial void LogFetchFailed(ILogger logger, string issuer, string reason);

    [LoggerMessage(EdgeLogEvents.JwksExpired, LogLevel.Error, "JWKS for issuer {Issuer} is older than {MaxAge} and could not be refreshed; its tokens are now refused")]
    private static partial void LogExpired(ILogger logger, string issuer, TimeSpan maxAge);

    [LoggerMessage(EdgeLogEvents.JwksUnknownKidRefresh, LogLevel.Information, "Unknown kid seen; re-fetching JWKS for issuer {Issuer}")]
    private static partial void LogUnknownKidRefresh(ILogger logger, string issuer);
}
