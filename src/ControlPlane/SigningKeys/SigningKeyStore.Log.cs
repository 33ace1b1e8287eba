using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.SigningKeys;

internal sealed partial class SigningKeyStore
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.SigningKeyCreated, Level = LogLevel.Information, Message = "Signing key {Kid} created; signs from {ActivateAt}")]
        public static partial void KeyCreated(ILogger logger, string kid, DateTimeOffset activateAt);

        [LoggerMessage(EventId = LogEvents.SigningKeyRevoked, Level = LogLevel.Warning, Message = "Signing key {Kid} revoked and removed from JWKS")]
        public static partial void KeyRevoked(ILogger logger, string kid);
    }
}
