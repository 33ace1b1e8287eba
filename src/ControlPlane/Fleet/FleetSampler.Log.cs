using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Fleet;

internal sealed partial class FleetSampler
{
    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.FleetSampleFailed, Level = LogLevel.Warning, Message = "Sampling the fleet gauges failed ({Error}); the last sample stays")]
        public static partial void SampleFailed(ILogger logger, string error);
    }
}
