using Authio.ControlPlane.Redis;
using StackExchange.Redis;

namespace Authio.ControlPlane.RateLimiting;

/// <summary>
/// The credential endpoints' buckets in Redis, shared by every control-plane instance: the same GCRA as
/// <see cref="AuthRateBuckets"/>, run as one script per request on Redis's clock (so instances need not agree on time).
/// Each bucket is one key (any Redis Cluster slot) that expires once full again.
/// </summary>
internal sealed class RedisAuthRateBuckets(ControlPlaneRedis redis)
{
    /// <summary>Prefix of every bucket key.</summary>
    public const string KeyPrefix = "authio:cp:rl:";

    /// <summary>How long a request waits for Redis before its instance decides alone.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromMilliseconds(250);

    // KEYS[1] = bucket (theoretical arrival time, µs on Redis's clock); ARGV[1] = interval µs, ARGV[2] = tolerance µs.
    // Returns -1 when admitted, else the µs until a retry can be admitted.
    private const string Script = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
        if tat < now then tat = now end
        local nxt = tat + tonumber(ARGV[1])
        if nxt - now > tonumber(ARGV[2]) then return nxt - tonumber(ARGV[2]) - now end
        redis.call('SET', KEYS[1], nxt, 'PX', math.floor((nxt - now) / 1000) + 1000)
        return -1
        """;

    /// <summary>
    /// Takes one request from the bucket <paramref name="key"/>: <see cref="TimeSpan.Zero"/> when admitted, the time until
    /// a retry can succeed when refused, null when Redis did not answer in time (the caller decides alone).
    /// </summary>
    public async Task<TimeSpan?> TakeAsync(string key, AuthRateRule rule, CancellationToken ct)
    {
        try
        {
            // Connected once (the first call waits for it at most the call timeout); down: fail fast.
            var connection = await redis.ConnectAsync().WaitAsync(CallTimeout, ct);
            if (!connection.IsConnected)
            {
                return null;
            }

            var result = (long)await connection.GetDatabase()
                .ScriptEvaluateAsync(Script, [KeyPrefix + key], [rule.Interval / 10, rule.Tolerance / 10])
                .WaitAsync(CallTimeout, ct);
            return result < 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Max(1, result) * 10);
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            return null;
        }
    }
}
