using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Orgs;

internal sealed partial class Bootstrap
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.BootstrapNeeded, Level = LogLevel.Warning,
            Message = "No users exist, so nobody can sign in. Set ControlPlane:Bootstrap:OrgName, ControlPlane:Bootstrap:AdminEmail and ControlPlane:Bootstrap:AdminPassword (e.g. environment variables ControlPlane__Bootstrap__OrgName, ...) and restart to create the first org and its mod user.")]
        public static partial void Needed(ILogger logger);

        [LoggerMessage(EventId = LogEvents.BootstrapDone, Level = LogLevel.Information, Message = "Bootstrapped org {OrgId} with mod user {UserId}")]
        public static partial void Done(ILogger logger, string orgId, string userId);
    }
}
