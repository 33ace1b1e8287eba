using System.Globalization;
using System.Threading.Channels;
using Authio.EdgeProxy.Concurrency;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.RateLimiting;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Redis;

/// <summary>
/// Fleet-wide limits: each edge leases batches of tokens from a token bucket held in Redis (one atomic Lua script,
/// Redis server time) and serves requests from its local lease. The request path never awaits Redis: it takes a
/// leased token with one CAS and, when the lease runs low, queues a background refill sized from the recent rate.
/// While Redis is unreachable (<see cref="EdgeRedis.IsAvailable"/>) every edge enforces <c>limit / ExpectedEdges</c>
/// locally, and recovers by itself once the shared connection answers again.
/// </summary>
internal sealed class GlobalLeases : BackgroundService, IGlobalLimits
{
    /// <summary>How far ahead a lease covers at the recent rate. 100 ms: small enough that unused leases cost the fleet little accuracy.</summary>
    private const double LeaseHorizonSeconds = 0.1;

    // KEYS[1] bucket; ARGV: tokens per ms, burst, debt, wanted, ttl ms. Returns {granted, ms until the next token}.
    private const string Script = """
        local rate = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local debt = tonumber(ARGV[3])
        local want = tonumber(ARGV[4])
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
        local tokens = tonumber(state[1])
        local ts = tonumber(state[2])
        if tokens == nil or ts == nil then
          tokens = burst
          ts = now
        end
        if now > ts then
          tokens = math.min(burst, tokens + (now - ts) * rate)
        end
        tokens = tokens - debt
        local grant = 0
        if tokens >= 1 then
          grant = math.min(want, math.floor(tokens))
        end
        tokens = tokens - grant
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        local wait = 0
        if tokens < 1 then
          wait = math.ceil((1 - tokens) / rate)
        end
        return {grant, wait}
        """;

    private readonly EdgeRedis _redis;
    private readonly int _expectedEdges;
    private readonly TimeProvider _time;
    private readonly Channel<Bucket> _queue = Channel.CreateUnbounded<Bucket>(new UnboundedChannelOptions { SingleReader = true });

    public GlobalLeases(EdgeRedis redis, EdgeOptions options, TimeProvider time)
    {
        _redis = redis;
        _expectedEdges = options.RateLimits.ExpectedEdges;
        _time = time;
    }

    /// <summary>Upper bound of one Redis call; past it the edge falls back to its local share.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Counters for the fleet scenario (load/ratelimit/fleet.sh): where tokens and refusals came from. Slow paths only.</summary>
    internal readonly record struct Counters(long Calls, long Granted, long DebtCharged, long FailedCalls, long RefusedInFlight, long RefusedWaiting, long SharedWhilePending, long Borrowed, double MaxLatencyMs);

    private long _calls, _granted, _debtCharged, _failedCalls, _refusedInFlight, _refusedWaiting, _sharedWhilePending, _borrowed, _maxLatency;

    internal Counters Diagnostics => new(Volatile.Read(ref _calls), Volatile.Read(ref _granted), Volatile.Read(ref _debtCharged),
        Volatile.Read(ref _failedCalls), Volatile.Read(ref _refusedInFlight), Volatile.Read(ref _refusedWaiting), Volatile.Read(ref _sharedWhilePending),
        Volatile.Read(ref _borrowed), Volatile.Read(ref _maxLatency) * 1000.0 / _time.TimestampFrequency);

    /// <summary>False while Redis is unreachable (the local fallback applies).</summary>
    public bool Healthy => _redis.IsAvailable;

    public RateLimitDecision Check(Bucket bucket, long now)
    {
        var lease = bucket.Lease!;
        var limit = bucket.Limit;
        Interlocked.Increment(ref lease.Demand);
        var healthy = Healthy;
        if (!healthy || !Volatile.Read(ref lease.Established))
        {
            var local = Share(bucket, now);
            if (healthy)
            {
                // First requests of a new key do not wait for the first lease: they are charged to the fleet bucket afterwards.
                if (local.Allowed)
                {
                    Interlocked.Increment(ref lease.Debt);
                }
                RequestRefill(bucket, lease, now);
            }
            return local;
        }
        while (true)
        {
            var tokens = Volatile.Read(ref lease.Tokens);
            if (tokens <= 0)
            {
                // A refusal is worth an exact clock read (now may be the limiter's cached time, up to a tick late).
                now = _time.GetTimestamp();
                if (Volatile.Read(ref lease.Spare))
                {
                    // Redis had tokens to spare at its last answer, so this is a burst outrunning the lease, not the fleet
                    // limit: borrow from this edge's share and charge it on the next refill, as for a new key's first requests.
                    var borrowed = Share(bucket, now);
                    if (borrowed.Allowed)
                    {
                        Interlocked.Increment(ref lease.Debt);
                        Interlocked.Increment(ref _borrowed);
                        RequestRefill(bucket, lease, now);
                        return borrowed;
                    }
                }
                if (Volatile.Read(ref lease.Requesting) == 1 && now - Volatile.Read(ref lease.RequestedAt) > _time.TimestampFrequency / 10)
                {
                    // Redis has not answered within 100 ms: serve this edge's share rather than refuse while waiting to know.
                    Interlocked.Increment(ref _sharedWhilePending);
                    return Share(bucket, now);
                }
                Interlocked.Increment(ref Volatile.Read(ref lease.Requesting) == 1 ? ref _refusedInFlight : ref _refusedWaiting);
                RequestRefill(bucket, lease, now);
                var wait = RateLimiter.Seconds(Math.Max(0, Volatile.Read(ref lease.RetryAt) - now), _time.TimestampFrequency);
                return new RateLimitDecision(limit, false, 0, wait, wait);
            }
            if (Interlocked.CompareExchange(ref lease.Tokens, tokens - 1, tokens) == tokens)
            {
                if (tokens - 1 <= Volatile.Read(ref lease.LowWater))
                {
                    RequestRefill(bucket, lease, now);
                }
                return new RateLimitDecision(limit, true, tokens - 1, limit.WindowSeconds, 0);
            }
        }
    }

    /// <summary>This edge's share of the limit, locally; a refusal re-checks on the exact clock (<paramref name="now"/> may be cached).</summary>
    private RateLimitDecision Share(Bucket bucket, long now)
    {
        var share = bucket.Limit.LocalShare(_expectedEdges);
        var decision = RateLimiter.Local(bucket, share, now, _time.TimestampFrequency);
        return decision.Allowed ? decision : RateLimiter.Local(bucket, share, _time.GetTimestamp(), _time.TimestampFrequency);
    }

    private void RequestRefill(Bucket bucket, GlobalLease lease, long now)
    {
        if (now >= Volatile.Read(ref lease.NextRequestAt) && Volatile.Read(ref lease.Requesting) == 0
            && Interlocked.CompareExchange(ref lease.Requesting, 1, 0) == 0)
        {
            Volatile.Write(ref lease.RequestedAt, now);
            _queue.Writer.TryWrite(bucket);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Buckets run on the local share until the shared connection exists.
            await _redis.ConnectedAsync(stoppingToken);
            await foreach (var bucket in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                // Refills of different buckets run concurrently; each bucket has at most one in flight.
                _ = RefillAsync(bucket, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RefillAsync(Bucket bucket, CancellationToken stop)
    {
        var lease = bucket.Lease!;
        var limit = bucket.Limit;
        var frequency = _time.TimestampFrequency;
        var now = _time.GetTimestamp();
        long debt = 0;
        try
        {
            var elapsed = Math.Max(now - lease.LastRefillAt, frequency / 100);
            var rate = Interlocked.Exchange(ref lease.Demand, 0) * (double)frequency / elapsed;
            lease.LastRefillAt = now;
            lease.Rate = lease.Rate == 0 ? rate : (lease.Rate + rate) / 2;
            // A lease is at most a quarter of this edge's share of the burst, so tokens parked at an idle edge stay few.
            var largest = Math.Max(1, limit.Burst / (4 * _expectedEdges));
            var target = (long)Math.Clamp(Math.Ceiling(lease.Rate * LeaseHorizonSeconds), 1, largest);
            var want = Math.Max(1, target - Volatile.Read(ref lease.Tokens));
            debt = Interlocked.Exchange(ref lease.Debt, 0);
            var redis = _redis.Connection ?? throw new RedisException("Redis is not connected yet.");
            lease.RedisKey ??= $"authio:rl:{limit.Name}:{limit.Text}:{bucket.Kind}:{bucket.KeyText}";
            var perMs = limit.Count / limit.Period.TotalMilliseconds;
            var ttlMs = (long)Math.Ceiling(limit.Burst / perMs) + 1000;
            var result = await redis.GetDatabase().ScriptEvaluateAsync(Script, [lease.RedisKey],
                [perMs.ToString("R", CultureInfo.InvariantCulture), limit.Burst, debt, want, ttlMs]).WaitAsync(CallTimeout, _time, stop);
            var values = (RedisResult[])result!;
            var granted = (long)values[0];
            RecordLatency(Math.Max(0, _time.GetTimestamp() - Volatile.Read(ref lease.RequestedAt)));
            Interlocked.Increment(ref _calls);
            Interlocked.Add(ref _granted, granted);
            Interlocked.Add(ref _debtCharged, debt);
            var waitTicks = (long)values[1] * frequency / 1000;
            Interlocked.Add(ref lease.Tokens, granted);
            Volatile.Write(ref lease.LowWater, target / 2);
            Volatile.Write(ref lease.RetryAt, now + waitTicks);
            Volatile.Write(ref lease.Spare, waitTicks == 0);
            Volatile.Write(ref lease.NextRequestAt, granted == 0 ? now + Math.Max(waitTicks, frequency / 1000) : now);
            Volatile.Write(ref lease.KeepUntil, now + (long)(limit.Period.TotalSeconds * frequency));
            Volatile.Write(ref lease.Established, true);
            _redis.ReportSuccess();
        }
        catch (Exception error) when (error is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            // Debt from before the outage is dropped: the local share already bounded what this edge admitted.
            Volatile.Write(ref lease.NextRequestAt, now + frequency / 2);
            Volatile.Write(ref lease.Spare, false);
            Interlocked.Increment(ref _failedCalls);
            _redis.ReportFailure(error);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Volatile.Write(ref lease.Requesting, 0);
        }
    }

    private void RecordLatency(long latency) => AtomicMax.Raise(ref _maxLatency, latency);
}
