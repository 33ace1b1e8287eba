namespace Authio.EdgeProxy.Configuration;

/// <summary>The <c>Edge</c> configuration section. Every default is chosen so that an unconfigured value is the safe one.</summary>
internal sealed class EdgeOptions
{
    public const string Section = "Edge";

    /// <summary>
    /// Where the admin listener (/healthz, /readyz, /metrics) binds. Default <c>http://127.0.0.1:9901</c>:
    /// loopback only, so metrics are never exposed on the proxy port or to the network by accident. Semicolon-separated.
    /// </summary>
    public string AdminUrls { get; set; } = "http://127.0.0.1:9901";

    /// <summary>The issuers whose tokens are accepted. Empty is allowed (only anonymous routes then succeed).</summary>
    public List<IssuerOptions> Issuers { get; set; } = [];

    public TokenOptions Tokens { get; set; } = new();

    public FailureBudgetOptions FailureBudget { get; set; } = new();

    public DemoOptions Demo { get; set; } = new();
}

internal sealed class IssuerOptions
{
    /// <summary>Exact match of the token's <c>iss</c>. Required.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>The token's <c>aud</c> must contain one of these (exact match). At least one is required: an edge that accepts any audience accepts tokens minted for other services.</summary>
    public List<string> Audiences { get; set; } = [];

    /// <summary>An <c>http(s)</c> URL or a local file path serving the issuer's JWKS. Required unless <see cref="SharedSecret"/> is set.</summary>
    public string? JwksUri { get; set; }

    /// <summary>Accepted <c>alg</c> values. Default <c>ES256, ES384, RS256, PS256</c>: the asymmetric algorithms access tokens use in practice.</summary>
    public List<string>? Algorithms { get; set; }

    /// <summary>
    /// Optional HS256 secret for a service-to-service issuer: UTF-8 text, or binary as <c>base64:&lt;base64&gt;</c>;
    /// at least 32 bytes as RFC 7518 §3.2 requires.
    /// Only when it is set is HS256 accepted, and only for this issuer. Default: none.
    /// </summary>
    public string? SharedSecret { get; set; }

    /// <summary>How often the JWKS is re-fetched. Default 10 minutes: new keys are pre-published longer than that before they sign.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Minimum time between fetches triggered by an unknown <c>kid</c>. Default 30 s, so a flood of forged kids cannot hammer the issuer.</summary>
    public TimeSpan UnknownKidRefreshThrottle { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the last good key set is trusted while the JWKS endpoint fails. Default 24 h, then the issuer's tokens are refused.</summary>
    public TimeSpan MaxKeySetAge { get; set; } = TimeSpan.FromHours(24);

    public static readonly string[] DefaultAlgorithms = ["ES256", "ES384", "RS256", "PS256"];
}

internal sealed class TokenOptions
{
    /// <summary>Tokens longer than this (bytes) are rejected before any parsing. Default 8192: real access tokens are well under 2 KB.</summary>
    public int MaxTokenBytes { get; set; } = 8192;

    /// <summary>Tolerance for <c>exp</c>, <c>nbf</c> and <c>iat</c>. Default 30 s: enough for ordinary clock drift, small enough not to extend token life noticeably.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Accepted <c>typ</c> header values when present (case-insensitive). Default <c>at+jwt</c>, <c>application/at+jwt</c>, <c>JWT</c>.</summary>
    public List<string>? AllowedTypes { get; set; }

    /// <summary>Validated-token cache capacity (entries). Default 100 000; 0 disables the cache.</summary>
    public int CacheCapacity { get; set; } = 100_000;

    public static readonly string[] DefaultAllowedTypes = ["at+jwt", "application/at+jwt", "JWT"];
}

/// <summary>Per client IP budget for failed authentications, so one client's flood of bad tokens cannot starve others.</summary>
internal sealed class FailureBudgetOptions
{
    /// <summary>Sustained failures per second allowed per client IP. Default 10: generous for misconfigured clients, cheap to enforce.</summary>
    public double PerSecond { get; set; } = 10;

    /// <summary>Failures allowed in a burst. Default 50.</summary>
    public int Burst { get; set; } = 50;
}

internal sealed class DemoOptions
{
    /// <summary>Starts a local dev issuer and a demo upstream inside the edge process and prints tokens. Default false; never enable in production.</summary>
    public bool Enabled { get; set; }

    /// <summary>Port of the demo upstream on 127.0.0.1. Default 5081.</summary>
    public int UpstreamPort { get; set; } = 5081;
}
