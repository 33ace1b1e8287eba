namespace Authio.EdgeProxy.Diagnostics;

/// <summary>Receives each request's whole duration beside the metrics; called on the request path, so it must not allocate or wait.</summary>
internal interface IRequestDurationSink
{
    /// <param name="routeId">The YARP route id, or <see cref="RequestMetrics.Unmatched"/>.</param>
    /// <param name="elapsedTimestamp">Elapsed <see cref="System.Diagnostics.Stopwatch"/> ticks.</param>
    void Record(string routeId, long elapsedTimestamp);
}
