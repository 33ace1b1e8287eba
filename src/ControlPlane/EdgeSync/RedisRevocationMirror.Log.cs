using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.EdgeSync;

internal sealed partial class RedisRevocationMirror
{
    private static partial class Log
    {
        [LoggerMessage(LogEvents.RedisRevocationsSeeded, LogLevel.Information, "Exact revocation set seeded into Redis: {Count} live revocation(s) through sequence {Through}")]
        public static partial void Seeded(ILogger logger, int count, long through);
    }
}
