using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.ApiKeys;

// Never log a key, a part of it beyond the display prefix, or its digest.
internal sealed partial class ApiKeyLookupService
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.ApiKeyUsedAfterRevoke, Level = LogLevel.Warning, Message = "Revoked API key {KeyId} of org {OrgId} was presented ({Via})")]
        public static partial void UsedAfterRevoke(ILogger logger, string keyId, string orgId, string via);

        [LoggerMessage(EventId = LogEvents.ApiKeyExpired, Level = LogLevel.Information, Message = "Expired API key {KeyId} of org {OrgId} was presented")]
        public static partial void Expired(ILogger logger, string keyId, string orgId);

        [LoggerMessage(EventId = LogEvents.EdgeKeyRejected, Level = LogLevel.Information, Message = "Edge API call refused: {Reason}")]
        public static partial void EdgeKeyRejected(ILogger logger, string reason);
    }
}
