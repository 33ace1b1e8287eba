using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.ApiKeys;

// Never log a key, a part of it beyond the display prefix, or its digest.
internal sealed partial class ApiKeyAdminService
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.ApiKeyCreated, Level = LogLevel.Information, Message = "API key {KeyId} created in org {OrgId} with scopes {Scopes}")]
        public static partial void Created(ILogger logger, string keyId, string orgId, string scopes);

        [LoggerMessage(EventId = LogEvents.ApiKeyRotated, Level = LogLevel.Information, Message = "API key {KeyId} in org {OrgId} rotated; previous secret valid for {GraceSeconds} s")]
        public static partial void Rotated(ILogger logger, string keyId, string orgId, long graceSeconds);

        [LoggerMessage(EventId = LogEvents.ApiKeyRevoked, Level = LogLevel.Information, Message = "API key {KeyId} in org {OrgId} revoked")]
        public static partial void Revoked(ILogger logger, string keyId, string orgId);
    }
}
