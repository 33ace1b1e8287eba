using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Keys;

internal sealed partial class OrgKeySets
{
    [LoggerMessage(EdgeLogEvents.SyncKeySetRefused, LogLevel.Error, "Edge sync: keys of org {Org} from the control plane refused, its last good keys kept: {Reason}")]
    private static partial void LogRefused(ILogger logger, string org, string reason);

    [LoggerMessage(EdgeLogEvents.SyncKeySetRecovered, LogLevel.Information, "Edge sync: keys of org {Org} accepted again")]
    private static partial void LogRecovered(ILogger logger, string org);
}
