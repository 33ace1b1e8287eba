using Authio.EdgeProxy.Concurrency;

namespace Authio.EdgeProxy.RateLimiting;

/// <summary>
/// The rate limiter's clock: the injected <see cref="TimeProvider"/>'s monotonic timestamp, cached and refreshed every
/// <see cref="Resolution"/> by a timer of that same provider, so that an admitted check reads one field (0.2–0.9 ns)
/// instead of the clock (29–31 ns on the KVM dev VM; RateLimitCostBenchmarks, bench/README.md). The timer runs only while the clock is read: a tick with no reader since the last
/// one stops it, and the next read after that takes the exact time and restarts it — an idle edge has no wake-ups, and
/// under a fake clock a long <c>Advance</c> costs one tick, after which reads are exact again.
/// </summary>
/// <remarks>
/// A cached value is never ahead of the provider, so a check may see time up to one resolution (or one delayed timer
/// callback) late. For GCRA that only errs toward refusing, and refusals re-check with <see cref="Exact"/>; the one
/// leak is that a bucket resumed from idle starts that much earlier, i.e. at most <c>rate × lag</c> extra requests
/// once per idle period (0.2 of a request for 200/s at 1 ms).
/// </remarks>
internal sealed class CoarseClock : IDisposable
{
    public static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(1);

    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private long _now;
    // Wall-clock Unix seconds, refreshed with _now: step-up checks compare it with auth_time without reading the clock.
    private long _unixSeconds;
    // 1 while the timer ticks; 0 once a tick found no reader (the next read restarts it).
    private int _running;
    // Set by readers, cleared by each tick: a read is only a store when the flag was clear.
    private int _read;

    public CoarseClock(TimeProvider time)
    {
        _time = time;
        Frequency = time.TimestampFrequency;
        _now = time.GetTimestamp();
        _unixSeconds = time.GetUtcNow().ToUnixTimeSeconds();
        _timer = time.CreateTimer(static state => ((CoarseClock)state!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public long Frequency { get; }

    /// <summary>The provider's timestamp as of the last tick (at most about one <see cref="Resolution"/> old); exact when the clock was idle.</summary>
    public long Now
    {
        get
        {
            if (Volatile.Read(ref _running) == 0)
            {
                return Restart();
            }
            if (Volatile.Read(ref _read) == 0)
            {
                Volatile.Write(ref _read, 1);
            }
            return Volatile.Read(ref _now);
        }
    }

    /// <summary>
    /// The provider's wall clock in whole Unix seconds, as of the last tick (read like <see cref="Now"/>, which keeps
    /// the timer running): for comparisons with token times (<c>auth_time</c>) on the request path.
    /// </summary>
    public long UnixSeconds
    {
        get
        {
            _ = Now;
            return Volatile.Read(ref _unixSeconds);
        }
    }

    /// <summary>The provider's timestamp now (a clock read); also moves the cached value forward.</summary>
    public long Exact()
    {
        var now = _time.GetTimestamp();
        Publish(now);
        return now;
    }

    private long Restart()
    {
        var now = Exact();
        Volatile.Write(ref _unixSeconds, _time.GetUtcNow().ToUnixTimeSeconds());
        Volatile.Write(ref _read, 1);
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            _timer.Change(Resolution, Resolution);
        }
        return now;
    }

    private void Tick()
    {
        Publish(_time.GetTimestamp());
        Volatile.Write(ref _unixSeconds, _time.GetUtcNow().ToUnixTimeSeconds());
        if (Interlocked.Exchange(ref _read, 0) == 0)
        {
            // Nobody read the clock for a whole tick: stop before saying so, so a reader that restarts it after seeing
            // _running == 0 always re-arms a stopped timer.
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Volatile.Write(ref _running, 0);
        }
    }

    private void Publish(long now) => AtomicMax.Raise(ref _now, now);

    public void Dispose() => _timer.Dispose();
}
