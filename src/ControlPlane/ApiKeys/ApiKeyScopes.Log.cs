using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.ApiKeys;

internal sealed partial class ApiKeyScopes
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.ApiKeyScopeCreated, Level = LogLevel.Information, Message = "API key scope {Scope} added to org {OrgId}")]
        public static partial void ScopeCreated(ILogger logger, string orgId, string scope);
    }
}
