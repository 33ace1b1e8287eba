using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.RateLimiting;

internal sealed partial class AuthRateLimiter
{
    private static partial class Log
    {
        // Once per key and rule period; never the key itself (an email or address).
        [LoggerMessage(EventId = LogEvents.RateLimited, Level = LogLevel.Warning,
            Message = "Rate limit {Limit} ({Rule}) exceeded; refusing for {RetryAfterSeconds} s")]
        public static partial void Limited(ILogger logger, string limit, string rule, int retryAfterSeconds);

        [LoggerMessage(EventId = LogEvents.RateLimitActiveEvictions, Level = LogLevel.Warning,
            Message = "Rate limit {Limit} tracks its maximum of {Capacity} keys; {Evicted} active buckets were dropped (those clients start with a full burst again)")]
        public static partial void ActiveEvictions(ILogger logger, string limit, int capacity, long evicted);

        [LoggerMessage(EventId = LogEvents.RateLimitFleetUnavailable, Level = LogLevel.Warning,
            Message = "Redis does not answer: credential rate limits fall back to this instance's own buckets until it does (the fleet may admit up to one limit per instance)")]
        public static partial void FleetUnavailable(ILogger logger);

        [LoggerMessage(EventId = LogEvents.RateLimitFleetRestored, Level = LogLevel.Information,
            Message = "Redis answers again: credential rate limits are fleet-wide again")]
        public static partial void FleetRestored(ILogger logger);
    }
}
