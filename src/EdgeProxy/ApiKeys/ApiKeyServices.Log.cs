using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.ApiKeys;

internal static partial class ApiKeyServices
{
    [LoggerMessage(EdgeLogEvents.ApiKeyCacheUnsigned, LogLevel.Warning,
        "API keys: Edge:Redis is set but Edge:ApiKeys:CacheSigningKey is not; the shared Redis L2 is not used for API keys (each edge asks the control plane on its own misses)")]
    private static partial void LogL2Disabled(ILogger logger);
}
