using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.ApiKeys;

internal sealed partial class ApiKeyAuthenticator
{
    [LoggerMessage(EdgeLogEvents.ApiKeyLookupFailed, LogLevel.Warning, "API key lookup failed and no cached record could stand in ({ErrorType}: {Reason}); the request was refused")]
    private static partial void LogLookupFailed(ILogger logger, string errorType, string reason);

    [LoggerMessage(EdgeLogEvents.ApiKeyLookupsSaturated, LogLevel.Warning,
        "API key lookups: the bulkhead and its queue are full (Edge:ApiKeys:MaxConcurrentLookups, LookupQueue); unknown keys are refused without a lookup ({Rejected} so far)")]
    private static partial void LogLookupsSaturated(ILogger logger, long rejected);

    [LoggerMessage(EdgeLogEvents.ApiKeyRecordChanged, LogLevel.Information, "API key {KeyId} changed at the control plane (rotated); its cached records were dropped")]
    private static partial void LogRecordChanged(ILogger logger, string keyId);

    [LoggerMessage(EdgeLogEvents.ApiKeyForgetFailed, LogLevel.Error,
        "API key {KeyId} changed at the control plane, but its records could not be dropped from the lookup cache ({ErrorType}: {Reason}); records of its secrets the hot cache did not hold may answer until they expire (Edge:ApiKeys:CacheDuration)")]
    private static partial void LogForgetFailed(ILogger logger, string keyId, string errorType, string reason);
}
