using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Diagnostics;

internal sealed partial class MetricsSampler
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.MetricsSampleFailed, Level = LogLevel.Warning, Message = "Sampling control-plane gauges failed ({Error}); the last sample stays")]
        public static partial void SampleFailed(ILogger logger, string error);
    }
}
