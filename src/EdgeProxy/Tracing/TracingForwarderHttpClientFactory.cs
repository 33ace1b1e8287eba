using System.Diagnostics;
using Yarp.ReverseProxy.Forwarder;

namespace Authio.EdgeProxy.Tracing;

/// <summary>
/// YARP's client factory, with one change while tracing is on: the runtime's HTTP handler starts an unrecorded Activity
/// of its own under whatever is current (here the forward span, <see cref="ForwardSpanMiddleware"/>) and would send
/// that as the upstream's parent, a span no trace ever shows. The upstream is handed the forward span instead.
/// YARP's propagator still drops the caller's trace headers first.
/// </summary>
internal sealed class TracingForwarderHttpClientFactory : ForwarderHttpClientFactory
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ActivityHeadersPropagator = new ReverseProxyPropagator(new ForwardSpanPropagator(DistributedContextPropagator.CreateW3CPropagator()));
    }

    private sealed class ForwardSpanPropagator(DistributedContextPropagator inner) : DistributedContextPropagator
    {
        public override IReadOnlyCollection<string> Fields => inner.Fields;

        public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter) =>
            inner.Inject(activity is { Parent: { } parent } && !EdgeTracing.IsTracing(activity) && EdgeTracing.IsTracing(parent) ? parent : activity, carrier, setter);

        public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState) =>
            inner.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

        public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) =>
            inner.ExtractBaggage(carrier, getter);
    }
}
