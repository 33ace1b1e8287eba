using Authio.EdgeProxy.Diagnostics;

namespace Authio.EdgeProxy.Memory;

internal sealed partial class MemoryPressureMonitor
{
    [LoggerMessage(EdgeLogEvents.MemoryPressureShed, LogLevel.Warning,
        "Memory pressure (GC memory load {Load:P0} of its high threshold, heap {HeapMiB} MiB, cache budget {BudgetMiB} MiB): shed {Tokens} cached tokens, {Negative} negative entries, {ApiKeys} API keys, {Buckets} idle rate-limit buckets")]
    private static partial void LogShed(ILogger logger, double load, long heapMiB, long budgetMiB, int tokens, int negative, int apiKeys, int buckets);

    [LoggerMessage(EdgeLogEvents.MemoryCompacted, LogLevel.Debug,
        "Compacted the GC heap: {FragmentedMiB} MiB of free space left by dead cache entries, heap {HeapMiB} MiB, pause {PauseMs:F1} ms")]
    private static partial void LogCompacted(ILogger logger, long fragmentedMiB, long heapMiB, double pauseMs);

    [LoggerMessage(EdgeLogEvents.MemoryBudget, LogLevel.Information,
        "Memory budget {BudgetMiB} MiB of {AvailableMiB} MiB the runtime sees ({Gc} GC): token cache {Tokens} entries (configured {TokensConfigured}), negative cache {Negative} ({NegativeConfigured}), API keys {ApiKeys} ({ApiKeysConfigured}), rate-limit slots {RateLimits} ({RateLimitsConfigured})")]
    public static partial void LogBudget(ILogger logger, long budgetMiB, long availableMiB, string gc, int tokens, int tokensConfigured,
        int negative, int negativeConfigured, int apiKeys, int apiKeysConfigured, int rateLimits, int rateLimitsConfigured);
}
