using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.SigningKeys;

internal sealed partial class SigningKeyStore
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.SigningKeyCreated, Level = LogLevel.Information, Message = "Signing key {Kid} of org {OrgId} created; signs from {ActivateAt}")]
        public static partial void KeyCreated(ILogger logger, string kid, string orgId, DateTimeOffset activateAt);

        [LoggerMessage(EventId = LogEvents.SigningKeyRevoked, Level = LogLevel.Warning, Message = "Signing key {Kid} of org {OrgId} revoked and removed from JWKS")]
        public static partial void KeyRevoked(ILogger logger, string kid, string orgId);

        [LoggerMessage(EventId = LogEvents.SigningKeyRateLimited, Level = LogLevel.Warning, Message = "Signing-key rotation of org {OrgId} refused: rotation limit per hour reached")]
        public static partial void RotationRateLimited(ILogger logger, string orgId);

        [LoggerMessage(EventId = LogEvents.SigningKeyBoundReached, Level = LogLevel.Warning, Message = "Signing-key rotation of org {OrgId} refused: it already publishes {Max} keys")]
        public static partial void PublishedBoundReached(ILogger logger, string orgId, int max);

        [LoggerMessage(EventId = LogEvents.DataKeyRotated, Level = LogLevel.Information, Message = "Data key of org {OrgId} rotated; {Count} signing key(s) re-sealed")]
        public static partial void DataKeyRotated(ILogger logger, string orgId, int count);

        [LoggerMessage(EventId = LogEvents.LegacyKeysRetiring, Level = LogLevel.Information, Message = "{Count} signing key(s) without an org no longer sign and retire at {RetireAt}")]
        public static partial void LegacyKeysRetiring(ILogger logger, int count, DateTimeOffset retireAt);

        [LoggerMessage(EventId = LogEvents.SigningKeyRotationFailed, Level = LogLevel.Error, Message = "Scheduled signing-key rotation of org {OrgId} failed; the other orgs' rotations still ran")]
        public static partial void RotationFailed(ILogger logger, string orgId, Exception error);
    }
}
