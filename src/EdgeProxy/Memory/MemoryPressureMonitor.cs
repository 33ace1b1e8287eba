using Authio.EdgeProxy.ApiKeys;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.RateLimiting;

namespace Authio.EdgeProxy.Memory;

/// <summary>The GC's view of memory (a seam: tests supply their own).</summary>
/// <param name="MemoryLoadBytes">Memory load at the last collection.</param>
/// <param name="HighMemoryLoadThresholdBytes">Where the GC itself starts to fight for memory.</param>
/// <param name="HeapSizeBytes">Heap size after the last collection (garbage in older generations included).</param>
/// <param name="CommittedBytes">Memory the GC has committed.</param>
/// <param name="LiveAfterFullBytes">What survived the last full (generation 2) collection; 0 before the first.</param>
/// <param name="FragmentedAfterFullBytes">Free space inside the heap after the last full collection (dead objects a
/// background collection swept but could not compact away).</param>
internal readonly record struct MemorySample(long MemoryLoadBytes, long HighMemoryLoadThresholdBytes, long HeapSizeBytes, long CommittedBytes,
    long LiveAfterFullBytes = 0, long FragmentedAfterFullBytes = 0)
{
    public static MemorySample FromRuntime()
    {
        var info = GC.GetGCMemoryInfo();
        var background = GC.GetGCMemoryInfo(GCKind.Background);
        var blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        var full = background.Index > blocking.Index ? background : blocking;
        return new MemorySample(info.MemoryLoadBytes, info.HighMemoryLoadThresholdBytes, info.HeapSizeBytes, info.TotalCommittedBytes,
            full.Index == 0 ? 0 : full.HeapSizeBytes - full.FragmentedBytes, full.Index == 0 ? 0 : full.FragmentedBytes);
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

    /// <summary>
    /// The heap may grow to this multiple of what survived the last full collection (plus <see cref="CollectSlackBytes"/>)
    /// before the monitor asks for a background generation-2 collection. Measured under churn (load/README.md "Memory"):
    /// at 1.5× + 24 MiB the heap of a full 100 000-token cache reached ≈ 45 MiB above what was live, at 1.2× + 12 MiB
    /// ≈ 24 MiB; a background mark of that heap (≈ 500 000 objects, the slab has no references) takes a few
    /// milliseconds of one core, so even one every <see cref="CollectIntervalSeconds"/> costs under 1 % of a core.
    /// </summary>
    public const double CollectGrowthFactor = 1.1;

    public const long CollectSlackBytes = 8L << 20;

    /// <summary>At most one requested collection per this many seconds.</summary>
    public const int CollectIntervalSeconds = 2;

    private long _lastCollect = long.MinValue;
    private long _collections;

    /// <summary>Background collections the monitor asked for since start.</summary>
    public long Collections => Interlocked.Read(ref _collections);

    /// <summary>
    /// One look at memory: asks for a background full collection when the heap has outgrown what is live, and sheds
    /// cache entries under pressure. True when it shed.
    /// </summary>
    public bool CheckOnce()
    {
        var now = _sample();
        MaybeCollect(now);
        MaybeCompact(now);
        return MaybeShed(now);
    }

    /// <summary>Free space after a full collection (bytes, and share of the heap) above which the monitor compacts.</summary>
    public const long CompactFragmentationBytes = 16L << 20;

    public const double CompactFragmentationShare = 0.125;

    /// <summary>At most one compaction per this many seconds.</summary>
    public const int CompactIntervalSeconds = 30;

    private long _lastCompact = long.MinValue;
    private long _compactions;

    /// <summary>Compacting collections the monitor asked for since start.</summary>
    public long Compactions => Interlocked.Read(ref _compactions);

    /// <summary>
    /// Background collections sweep dead cache entries into free lists but never compact, and under churn generation 2
    /// keeps ≈ 20 MiB of such holes (a full 100 000-token cache: heap 110–118 MiB for ≈ 95 MiB live, load/README.md
    /// "Memory"), all of it resident. Past <see cref="CompactFragmentationBytes"/> and
    /// <see cref="CompactFragmentationShare"/> of the heap, at most every <see cref="CompactIntervalSeconds"/>, one
    /// blocking compacting collection returns it (the slab is pinned and does not move; what moves is ≈ 45 MiB of
    /// entries and identities: a pause of tens of milliseconds, logged at Debug with its length, event 3502).
    /// </summary>
    private void MaybeCompact(MemorySample now)
    {
        var timestamp = time.GetTimestamp();
        if (now.FragmentedAfterFullBytes < CompactFragmentationBytes
            || now.FragmentedAfterFullBytes < now.HeapSizeBytes * CompactFragmentationShare
            || (_lastCompact != long.MinValue && time.GetElapsedTime(_lastCompact, timestamp) < TimeSpan.FromSeconds(CompactIntervalSeconds)))
        {
            return;
        }
        _lastCompact = timestamp;
        Interlocked.Increment(ref _compactions);
        var paused = GC.GetTotalPauseDuration();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        LogCompacted(logger, now.FragmentedAfterFullBytes >> 20, now.HeapSizeBytes >> 20, (GC.GetTotalPauseDuration() - paused).TotalMilliseconds);
    }

    /// <summary>
    /// A cache under churn defeats the GC's generational bet: every entry lives long enough to reach generation 2 and
    /// dies there, and generation 2's budget grows with what survived, so without a container limit the heap reaches
    /// several times what is live before the GC looks (measured: 130 MB live, 350 MB committed). A background
    /// collection (concurrent, no compaction, ≈ 1 % of a core at the rate allowed here) reclaims those dead entries.
    /// </summary>
    private void MaybeCollect(MemorySample now)
    {
        var timestamp = time.GetTimestamp();
        // The token slab is a fixed part of the heap (pinned, never garbage): only what is on top of it may grow by the factor.
        var slab = tokens.SlabBytes;
        var live = Math.Max(0, now.LiveAfterFullBytes - slab);
        if (now.HeapSizeBytes <= slab + live * CollectGrowthFactor + CollectSlackBytes
            || (_lastCollect != long.MinValue && time.GetElapsedTime(_lastCollect, timestamp) < TimeSpan.FromSeconds(CollectIntervalSeconds)))
        {
            return;
        }
        _lastCollect = timestamp;
        Interlocked.Increment(ref _collections);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false, compacting: false);
    }

    private bool MaybeShed(MemorySample now)
    {
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
