namespace Authio.EdgeProxy.Configuration;

/// <summary>How the edge's sockets hand their completions to the code waiting on them (<c>Edge:Transport</c>).</summary>
internal sealed class EdgeTransportOptions
{
    /// <summary>
    /// Run a socket's completion (a client's request bytes arrived, the upstream's answer arrived) on the event thread
    /// that saw it, like Envoy's workers, instead of queueing it to the thread pool first: one thread hop less per
    /// read, on both sides of the proxy. Default true. Safe because nothing on the edge's request path blocks a thread
    /// (the rare waits — JWKS refresh, API-key lookup, Redis confirmation — are asynchronous); set false for the .NET
    /// default. Applies to sockets on Linux and macOS; the <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>
    /// environment variable, when set, wins (load/README.md, "Inline completions").
    /// </summary>
    public bool InlineCompletions { get; set; } = true;
}
