namespace Authio.Load.Tools.Kit;

/// <summary>The JSON a kit run writes (<c>result.json</c>): one entry per measured run, then the comparison.</summary>
internal sealed class KitReport
{
    public required string Scenario { get; init; }

    public string Description { get; init; } = "";

    public required DateTimeOffset StartedAt { get; init; }

    public required MachineFacts Machine { get; init; }

    public required List<RunResult> Runs { get; init; }

    public Comparison? Comparison { get; set; }
}

internal sealed class MachineFacts
{
    public int Cores { get; init; } = Environment.ProcessorCount;

    public string LoadAverageBefore { get; init; } = "";

    public string LoadAverageAfter { get; set; } = "";

    public string Runtime { get; init; } = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;
}

internal sealed class RunResult
{
    /// <summary>The target's or baseline's name (<c>--target-name</c>, <c>--baseline-name</c>), with the round when there are several.</summary>
    public required string Label { get; init; }

    public required string Role { get; init; }

    public int Round { get; init; } = 1;

    public required string Url { get; init; }

    /// <summary>open (constant arrival rate, latency from the intended send time) or closed (connections in a loop).</summary>
    public required string Model { get; init; }

    /// <summary>Open model: the scheduled rate (of the first measured phase; see <see cref="Timeline"/> for the rest).</summary>
    public double? ScheduledRps { get; init; }

    public int Connections { get; init; }

    public double WarmupSeconds { get; init; }

    public double DurationSeconds { get; init; }

    /// <summary>Requests whose (intended) start fell in the measured window.</summary>
    public long Requests { get; init; }

    /// <summary>Responses received (any status) over the measured window, per second.</summary>
    public double ThroughputRps { get; init; }

    public long TransportErrors { get; init; }

    /// <summary>Answers outside the scenario's expected statuses.</summary>
    public long Unexpected { get; init; }

    /// <summary>Open model: requests never sent because the client already had too many in flight (counted, not hidden).</summary>
    public long NotSent { get; init; }

    public required SortedDictionary<string, long> Statuses { get; init; }

    /// <summary>
    /// Response time in ms: open model from the intended send time (queueing behind slow answers included), closed
    /// model from the actual send.
    /// </summary>
    public required LatencySummary LatencyMs { get; init; }

    /// <summary>From the actual send (what a closed-loop tool reports); differs from <see cref="LatencyMs"/> when requests queued.</summary>
    public required LatencySummary ServiceTimeMs { get; init; }

    /// <summary>The latency distribution: (percentile 0 … 100, ms) pairs from the HdrHistogram.</summary>
    public required List<double[]> PercentileCurve { get; init; }

    public required List<TimelinePoint> Timeline { get; init; }

    public List<string> Events { get; init; } = [];
}

internal sealed class LatencySummary
{
    public double P50 { get; init; }

    public double P90 { get; init; }

    public double P99 { get; init; }

    public double P999 { get; init; }

    public double Max { get; init; }

    public double Mean { get; init; }
}

/// <summary>One second of the measured window, by completion time.</summary>
internal sealed class TimelinePoint
{
    /// <summary>Seconds since the measured window began, at the end of this interval.</summary>
    public double T { get; init; }

    /// <summary>Length of the interval (1 s, but for the last one, which holds the answers that came after the window).</summary>
    public double IntervalSeconds { get; init; } = 1;

    /// <summary>Requests started (open model: scheduled) in this second.</summary>
    public long Sent { get; init; }

    public long Completed { get; init; }

    public required SortedDictionary<string, long> Statuses { get; init; }

    public double P50Ms { get; init; }

    public double P99Ms { get; init; }

    public double MaxMs { get; init; }
}

internal sealed class Comparison
{
    public required string Target { get; init; }

    public required string Baseline { get; init; }

    /// <summary>Per round: target throughput / baseline throughput of the same round.</summary>
    public required List<double> ThroughputRatios { get; init; }

    public double MedianThroughputRatio { get; init; }

    /// <summary>Target latency / baseline latency over all rounds (p50, p99), &gt; 1 = the target is slower.</summary>
    public double P50Ratio { get; init; }

    public double P99Ratio { get; init; }

    public string Note { get; init; } = "";
}
