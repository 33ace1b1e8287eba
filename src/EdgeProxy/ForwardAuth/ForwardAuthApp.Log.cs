using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.ForwardAuth;

internal static partial class ForwardAuthApp
{
    [LoggerMessage(EdgeLogEvents.ForwardAuthListening, LogLevel.Information, "Forward-auth checks answered on {Urls} (shared secret: {SecretHeader})")]
    private static partial void LogListening(ILogger logger, string urls, string secretHeader);

    [LoggerMessage(EdgeLogEvents.ForwardAuthExposed, LogLevel.Warning,
        "Edge:ForwardAuth:Urls '{Url}' is not a loopback or private address: the listener trusts forwarded headers, so bind it where only the proxy reaches it")]
    private static partial void LogExposed(ILogger logger, string url);
}
