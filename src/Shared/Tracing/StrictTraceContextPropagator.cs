using System.Diagnostics;

namespace Authio.Shared.Tracing;

/// <summary>
/// What a service accepts from a caller's trace headers: one well-formed W3C <c>traceparent</c> (and its
/// <c>tracestate</c>, bounded) to join the caller's trace, nothing else. A malformed, repeated or legacy
/// (<c>Request-Id</c>) header starts a new trace; caller baggage is dropped. Outgoing requests carry W3C headers.
/// </summary>
public sealed class StrictTraceContextPropagator : DistributedContextPropagator
{
    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";
    private const int MaxTraceStateLength = 512; // W3C: 32 members; longer is not worth carrying

    private static readonly DistributedContextPropagator Outgoing = CreateDefaultPropagator();

    public override IReadOnlyCollection<string> Fields => Outgoing.Fields;

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter) =>
        Outgoing.Inject(activity, carrier, setter);

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
    {
        traceId = null;
        traceState = null;
        if (getter is null || Single(carrier, getter, TraceParent) is not { } parent || !ActivityContext.TryParse(parent, null, out _))
        {
            return;
        }
        traceId = parent;
        if (Single(carrier, getter, TraceState) is { Length: <= MaxTraceStateLength } state)
        {
            traceState = state;
        }
    }

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) => null;

    private static string? Single(object? carrier, PropagatorGetterCallback getter, string name)
    {
        getter(carrier, name, out var value, out var values);
        if (values is not null)
        {
            using var items = values.GetEnumerator();
            if (!items.MoveNext())
            {
                return null;
            }
            var first = items.Current;
            return items.MoveNext() ? null : first;
        }
        return value;
    }
}
