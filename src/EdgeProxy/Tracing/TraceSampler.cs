using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Authio.EdgeProxy.Tracing;

/// <summary>
/// The edge's sampling decision, made before any <see cref="Activity"/> exists: the standard sampler variables
/// (<c>OTEL_TRACES_SAMPLER</c>, <c>OTEL_TRACES_SAMPLER_ARG</c>, default <c>parentbased_always_on</c>) applied to the
/// caller's <c>traceparent</c>, read as characters. An unsampled request therefore creates no Activity, reads no clock
/// and allocates nothing, which is what keeps 1 % sampling within a few percent of tracing off (<c>load/run.sh</c>,
/// edge vs edge-traced); the OpenTelemetry SDK would create a propagation-only Activity for every unsampled request.
/// The caller's context is joined only from exactly one well-formed W3C <c>traceparent</c> (version 00, lowercase hex,
/// non-zero ids); anything else is treated as no parent.
/// </summary>
internal sealed class TraceSampler
{
    public const string TraceParentHeader = "traceparent";
    public const string TraceStateHeader = "tracestate";
    private const int TraceParentLength = 55; // "00-" + 32 + "-" + 16 + "-" + 2
    private const int MaxTraceStateLength = 512; // W3C: 32 members; longer is not worth carrying

    private readonly Mode _root;
    private readonly bool _parentBased;
    private readonly double _ratio;
    private readonly ulong _traceIdBound;

    private enum Mode { AlwaysOn, AlwaysOff, Ratio }

    public TraceSampler(string? sampler, string? argument)
    {
        var name = string.IsNullOrWhiteSpace(sampler) ? "parentbased_always_on" : sampler.Trim().ToLowerInvariant();
        _parentBased = name.StartsWith("parentbased_", StringComparison.Ordinal);
        _root = (_parentBased ? name["parentbased_".Length..] : name) switch
        {
            "always_off" => Mode.AlwaysOff,
            "traceidratio" => Mode.Ratio,
            _ => Mode.AlwaysOn, // the names were checked at start-up (TracingSwitch)
        };
        // The SDK's default ratio is 1.0 when the argument is absent.
        _ratio = string.IsNullOrWhiteSpace(argument) ? 1.0 : double.Parse(argument, NumberStyles.Float, CultureInfo.InvariantCulture);
        _traceIdBound = (ulong)(_ratio * long.MaxValue);
    }

    /// <summary>
    /// Whether this request is traced; when it is, <paramref name="parent"/> is the caller's context to join (default:
    /// a new trace). Allocates only for a sampled request that has a parent.
    /// </summary>
    public bool ShouldSample(in StringValues traceParent, in StringValues traceState, out ActivityContext parent)
    {
        parent = default;
        var wellFormed = traceParent.Count == 1 && IsWellFormed(traceParent[0]);
        bool sampled;
        if (wellFormed && _parentBased)
        {
            sampled = traceParent[0]![TraceParentLength - 1] is '1' or '3' or '5' or '7' or '9' or 'b' or 'd' or 'f';
        }
        else
        {
            sampled = _root switch
            {
                Mode.AlwaysOn => true,
                Mode.AlwaysOff => false,
                _ => wellFormed ? TraceIdBelowBound(traceParent[0]!) : Random.Shared.NextDouble() < _ratio,
            };
        }
        if (sampled && wellFormed)
        {
            var state = traceState.Count == 1 && traceState[0] is { Length: <= MaxTraceStateLength } s ? s : null;
            ActivityContext.TryParse(traceParent[0]!, state, isRemote: true, out parent);
        }
        return sampled;
    }

    /// <summary>W3C trace context, version 00, exactly: <c>00-{32 hex}-{16 hex}-{2 hex}</c>, lowercase, ids not all zero.</summary>
    public static bool IsWellFormed(string? value)
    {
        if (value is not { Length: TraceParentLength } || value[0] != '0' || value[1] != '0' || value[2] != '-' || value[35] != '-' || value[52] != '-')
        {
            return false;
        }
        var span = value.AsSpan();
        return IsLowerHex(span.Slice(3, 32), out var traceZero) && !traceZero
            && IsLowerHex(span.Slice(36, 16), out var spanZero) && !spanZero
            && IsLowerHex(span.Slice(53, 2), out _);
    }

    private static bool IsLowerHex(ReadOnlySpan<char> chars, out bool allZero)
    {
        allZero = true;
        foreach (var c in chars)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
            allZero &= c == '0';
        }
        return true;
    }

    /// <summary>The SDK's trace-id ratio rule (the trace id's first 8 bytes against ratio × long.MaxValue), so a parent's trace is kept or dropped as the SDK would.</summary>
    private bool TraceIdBelowBound(string traceParent)
    {
        var high = ulong.Parse(traceParent.AsSpan(3, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        var magnitude = (long)high == long.MinValue ? long.MaxValue : Math.Abs((long)high);
        return (ulong)magnitude < _traceIdBound;
    }
}
