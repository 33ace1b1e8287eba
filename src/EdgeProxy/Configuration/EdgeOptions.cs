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

    public EdgeTokenOptions Tokens { get; set; } = new();

    public FailureBudgetOptions FailureBudget { get; set; } = new();

    public DemoOptions Demo { get; set; } = new();

    /// <summary>
    /// Which API keys this edge accepts: <c>live</c> (default, rejects <c>sk_test_</c>) or <c>test</c> (rejects
    /// <c>sk_live_</c>), so a test key can never reach production data and a live key never leaks into staging.
    /// </summary>
    public string Environment { get; set; } = "live";

    public EdgeControlPlaneOptions ControlPlane { get; set; } = new();

    public EdgeApiKeyOptions ApiKeys { get; set; } = new();

    public Fleet.FleetOptions Fleet { get; set; } = new();

    public ForwardAuth.ForwardAuthOptions ForwardAuth { get; set; } = new();

    public RevocationOptions Revocation { get; set; } = new();

    /// <summary>
    /// StackExchange.Redis connection string for state shared by the fleet: global rate limits, the exact revocation
    /// set, the change feed and the API-key L2 cache, all over one connection (<c>Redis/EdgeRedis</c>). Default none:
    /// in-process only.
    /// </summary>
    public string? Redis { get; set; }

    public EdgeRateLimitOptions RateLimits { get; set; } = new();

    public EdgeLimitOptions Limits { get; set; } = new();

    public EdgeTransportOptions Transport { get; set; } = new();

    public Memory.EdgeMemoryOptions Memory { get; set; } = new();
    public WebSockets.WebSocketOptions WebSockets { get; set; } = new();
}

/// <summary>Request rate limits (<c>Edge:RateLimits</c>). Routes set theirs with <c>Authio.RateLimit</c>; these are the fallbacks.</summary>
internal sealed class EdgeRateLimitOptions
{
    /// <summary>
    /// Limit for routes without <c>Authio.RateLimit</c> and callers whose org has none, in the same grammar
    /// (e.g. <c>100/1s burst 200</c>). Default none: such routes are not limited, so enabling limits is a deliberate choice.
    /// </summary>
    public string? Default { get; set; }

    /// <summary>
    /// Edges sharing <c>global</c> limits. While Redis is unreachable each edge enforces <c>limit / ExpectedEdges</c>
    /// locally (also without <c>Edge:Redis</c>). Default 1: a lone edge keeps the whole limit.
    /// </summary>
    public int ExpectedEdges { get; set; } = 1;

    /// <summary>
    /// Bucket slots (rounded up to a power of two). Default 262 144 (about 20 MB when full): memory is fixed whatever the
    /// number of distinct keys; beyond it the buckets closest to full are recycled first, which only errs toward admitting.
    /// </summary>
    public int Capacity { get; set; } = 262_144;
}

/// <summary>How the edge reaches its control plane.</summary>
internal sealed class EdgeControlPlaneOptions
{
    /// <summary>Base URL of the control plane, e.g. <c>http://127.0.0.1:5100</c>. Default none: API keys are then refused.</summary>
    public string? Url { get; set; }

    /// <summary>The edge's own API key (scope <c>edge:sync</c>), sent as a bearer credential. Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Follow the control plane's change feed (its issuer and keys, revocations). Default true whenever <see cref="Url"/>
    /// is set: an edge configured with a control plane then needs no <c>Edge:Issuers</c> entry for it.
    /// </summary>
    public bool Sync { get; set; } = true;

    /// <summary>Readiness reports the edge degraded when its feed has not been heard from for this long. Default 60 s.</summary>
    public TimeSpan MaxStaleness { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Long-poll wait per changes request. Default 25 s: under common 30 s idle timeouts of proxies in between.</summary>
    public int LongPollSeconds { get; set; } = 25;
}

/// <summary>The revocation stage's bloom filter.</summary>
internal sealed class RevocationOptions
{
    /// <summary>
    /// Revoked ids the filter is sized for before it is rebuilt larger (to twice what it then holds). Default 4 096
    /// (≈ 7 KB at 0.1 %); at least 64. Small by default because every request probes it at random places: a filter
    /// that fits the CPU's nearer caches costs no memory read per id, and each revocation's copy-on-write copies less
    /// (180 KB per change at 100 000).
    /// </summary>
    public int Capacity { get; set; } = 4_096;

    /// <summary>Target false-positive rate: the share of clean requests that need the exact check. Default 0.1 %.</summary>
    public double FalsePositiveRate { get; set; } = 0.001;

    /// <summary>
    /// Confirm bloom-filter positives against the exact set the control plane mirrors into Redis, so the edge holds the
    /// filter and not every revoked id. Takes effect only with <c>Edge:Redis</c> and a control plane that has Redis too
    /// (its snapshot says so). Default true; false keeps every revoked id in memory here.
    /// </summary>
    public bool RedisExactSet { get; set; } = true;

    /// <summary>
    /// When the exact check cannot be made (Redis down or its data lost), reject the bloom-positive request with 401:
    /// a revoked credential is never accepted; bloom-negative traffic (≈ 99.9 %) is unaffected. Default true.
    /// </summary>
    public bool FailClosed { get; set; } = true;

    /// <summary>Longest wait for the Redis exact check on a request. Default 250 ms: a loopback/LAN round trip takes well under 1 ms.</summary>
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a Redis answer is reused while no revocation arrives. Default 2 s (any new revocation discards it).</summary>
    public TimeSpan ConfirmCacheDuration { get; set; } = TimeSpan.FromSeconds(2);
}

internal sealed class EdgeApiKeyOptions
{
    /// <summary>
    /// Longest time a cached key record is trusted without asking again: the worst-case delay before a revocation or
    /// rotation made in the control plane takes effect at this edge when no push channel is configured. Default 5 s.
    /// </summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// While the edge-sync feed is live, how often a cached key record is refreshed from the control plane (in the
    /// background; the cached answer goes on serving). Revocations and rotations arrive by push, so this bounds only how
    /// late anything else reaches a cached record, and it sets the control plane's lookup load: one lookup per key in
    /// use per edge per interval. Default 5 min, range 1 s to 1 day; never shorter than <see cref="CacheDuration"/> (the
    /// longer of the two applies).
    /// </summary>
    public TimeSpan PushedRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long "no such key" is remembered per digest, so a flood of unknown keys reaches the control plane at most once per digest per period. Default 60 s.</summary>
    public TimeSpan NegativeCacheDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a known key keeps working from its last good record while the control plane is unreachable. Default 1 h.</summary>
    public TimeSpan FailSafeMaxDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Upper bound on a control-plane lookup on the request path. Default 2 s.</summary>
    public TimeSpan LookupTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Control-plane key lookups in flight at once from this edge (a bulkhead): a flood of random well-formed keys never
    /// puts more than this on the control plane. Default 16, range 1–1024.
    /// </summary>
    public int MaxConcurrentLookups { get; set; } = 16;

    /// <summary>
    /// Lookups that may wait for a free slot (each waits at most <see cref="LookupTimeout"/>); beyond them a key the edge
    /// does not know is answered 401 at once without a lookup. Default 64, range 0–10 000.
    /// </summary>
    public int LookupQueue { get; set; } = 64;

    /// <summary>How often aggregated per-key usage is reported. Default 10 s.</summary>
    public TimeSpan UsageReportInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Entries of the in-process key cache (positive and negative). Default 65 536.</summary>
    public int CacheCapacity { get; set; } = 65_536;

    /// <summary>
    /// Base64 of 32 random bytes, the same on every edge sharing <c>Edge:Redis</c>: key records in the Redis L2 are
    /// HMAC'd with it and a record that fails the check is a miss. Unset: the L2 is not used (Redis is never trusted
    /// with an API key's authority), each edge asks the control plane on its own misses.
    /// </summary>
    public string? CacheSigningKey { get; set; }

    /// <summary>The decoded <see cref="CacheSigningKey"/>; null when unset or not 32 bytes of base64 (the validator refuses that).</summary>
    public byte[]? CacheSigningKeyBytes()
    {
        if (string.IsNullOrWhiteSpace(CacheSigningKey))
        {
            return null;
        }
        var buffer = new byte[33];
        return Convert.TryFromBase64String(CacheSigningKey.Trim(), buffer, out var written) && written == 32 ? buffer[..32] : null;
    }
}

internal sealed class IssuerOptions
{
    /// <summary>Exact match of the token's <c>iss</c>. Required.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>
    /// The name routes use for this issuer in <c>Authio.Issuers</c>. Default: <see cref="Issuer"/> itself. No commas or
    /// spaces; <c>control-plane</c> is reserved for the control plane's issuer (learned from edge sync).
    /// </summary>
    public string? Name { get; set; }

    /// <summary>The control plane's issuer as routes name it in <c>Authio.Issuers</c>; API keys count as this issuer too.</summary>
    public const string ControlPlaneName = "control-plane";

    /// <summary><see cref="Name"/> or, when unset, <see cref="Issuer"/>.</summary>
    public string RouteName => string.IsNullOrWhiteSpace(Name) ? Issuer : Name.Trim();

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

internal sealed class EdgeTokenOptions
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

    /// <summary>
    /// IPv6 clients are budgeted (and rate-limited per address) per this prefix length: one /64 is one budget, not 2^64.
    /// Default 64, range 32–128 (128 = per address, as before).
    /// </summary>
    public int Ipv6Prefix { get; set; } = 64;

    /// <summary>
    /// Entries of the negative token cache: correctly signed tokens that failed a claim check (expired, not yet valid,
    /// wrong audience or issuer, revoked), answered again without a signature check. Default 16 384, range 0 (off)–1 048 576.
    /// </summary>
    public int NegativeCacheCapacity { get; set; } = 16_384;
}

internal sealed class DemoOptions
{
    /// <summary>Starts a local dev issuer and a demo upstream inside the edge process and prints tokens. Default false; never enable in production.</summary>
    public bool Enabled { get; set; }

    /// <summary>Port of the demo upstream on 127.0.0.1. Default 5081.</summary>
    public int UpstreamPort { get; set; } = 5081;
}
