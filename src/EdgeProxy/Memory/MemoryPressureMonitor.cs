using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.RateLimiting;

namespace Authio.EdgeProxy.Memory;

/// <summary>The GC's view of memory at its last collection (a seam: tests supply their own).</summary>
internal readonly record struct MemorySample(long MemoryLoadBytes, long HighMemoryLoadThresholdBytes, long HeapSizeBytes, long CommittedBytes)
{
    public static MemorySample FromRuntime()
    {
        var info = GC.GetGCMemoryInfo();
        return new MemorySample(info.MemoryLoadBytes, info.HighMemoryLoadThresholdBytes, info.HeapSizeBytes, info.TotalCommittedBytes);
    }

    /// <summary>Memory load as a share of the GC's high-memory threshold (1.0 = the GC itself starts to fight for memory).</summary>
    public double Load => HighMemoryLoadThresholdBytes <= 0 ? 0 : (double)MemoryLoadBytes / HighMemoryLoadThresholdBytes;
}

/// <summary>
/// Keeps the edge alive near its memory limit: every <see cref="EdgeMemoryOptions.CheckInterval"/> it reads the GC's
/// memory load, and at or above <see cref="EdgeMemoryOptions.PressureThreshold"/> of the high-memory threshold (or with
/// the GC heap above the budget plus the runtime's own share) it sheds cache entries: half of the token and negative
/// caches (cold entries first), half of the API-key hot cache, and every idle rate-limit bucket (a bucket whose
/// theoretical arrival has passed is full, so dropping it changes no decision). A shed cache costs signature checks
/// (or control-plane lookups), never a wrong answer or an out-of-memory failure. Runs off the request path.
/// </summary>
internal sealed partial class MemoryPressureMonitor(
    EdgeMemoryOptions options,
    MemoryBudget budget,
    TokenCache tokens,
    NegativeTokenCache negative,
    ApiKeyHotCache apiKeys,
    BucketTable buckets,
    TimeProvider time,
    ILogger<MemoryPressureMonitor> logger,
    Func<MemorySample>? sample = null) : BackgroundService
{
    /// <summary>What a trim keeps of each cache.</summary>
    public const double KeepFraction = 0.5;

    /// <summary>The GC heap may exceed the caches' budget by this much (runtime, buffers, in-flight requests) before it counts as pressure.</summary>
    public const long RuntimeAllowanceBytes = 64L << 20;

    private readonly Func<MemorySample> _sample = sample ?? MemorySample.FromRuntime;
    private long _trims;

    /// <summary>Times the caches were shed since start.</summary>
    public long Trims => Interlocked.Read(ref _trims);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.CheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                CheckOnce();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One look at memory; sheds when under pressure. True when it shed.</summary>
    public bool CheckOnce()
    {
        var now = _sample();
        var overBudget = now.HeapSizeBytes > budget.Bytes + RuntimeAllowanceBytes;
        if (now.Load < options.PressureThreshold && !overBudget)
        {
            return false;
        }
        var droppedTokens = tokens.Trim(KeepFraction);
        var droppedNegative = negative.Trim(KeepFraction);
        var droppedKeys = apiKeys.Trim(KeepFraction);
        var droppedBuckets = buckets.TrimIdle(time.GetTimestamp());
        Interlocked.Increment(ref _trims);
        LogShed(logger, now.Load, now.HeapSizeBytes >> 20, budget.Bytes >> 20, droppedTokens, droppedNegative, droppedKeys, droppedBuckets);
        return true;
    }
}
