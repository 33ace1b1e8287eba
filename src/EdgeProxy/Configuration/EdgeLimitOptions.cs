namespace Authio.EdgeProxy.Configuration;

/// <summary>Request limits the edge answers itself, as problem+json (<c>Edge:Limits</c>).</summary>
internal sealed class EdgeLimitOptions
{
    /// <summary>
    /// Largest request header section accepted (names + values + 4 bytes per line). Default 32 768 (Kestrel's own
    /// default). Beyond it the edge answers 431 <c>request_header_too_large</c>. Kestrel's limit is raised to twice this
    /// value, so Kestrel's bodiless 431 only answers what is over both.
    /// </summary>
    public int MaxRequestHeaderBytes { get; set; } = 32 * 1024;

    public const int MinRequestHeaderBytes = 1024;
    public const int MaxRequestHeaderBytesLimit = 1024 * 1024;
}
