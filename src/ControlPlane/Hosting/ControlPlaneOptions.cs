namespace Authio.ControlPlane.Hosting;

/// <summary>Everything under the <c>ControlPlane</c> configuration section. Defaults are the documented ones.</summary>
internal sealed class ControlPlaneOptions
{
    /// <summary>Where SQLite and the generated master key live when no PostgreSQL is configured. Default <c>./data</c>.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>The <c>iss</c> of every token. Default <c>http://localhost:5100</c>.</summary>
    public string Issuer { get; set; } = "http://localhost:5100";

    /// <summary>The <c>aud</c> of every token. Default <c>authio-api</c>.</summary>
    public string Audience { get; set; } = "authio-api";

    /// <summary>32 bytes, base64, sealing signing keys at rest. Default: generated into the data directory (with a warning).</summary>
    public string? MasterKey { get; set; }

    /// <summary>
    /// StackExchange.Redis connection string. When set, every edge change is also appended to the Redis stream
    /// <c>authio:edge:changes</c> and announced on <c>authio:edge:notify</c>, so edges read changes from Redis in
    /// milliseconds without polling this service. Default none: edges long-poll the HTTP feed.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// Where the admin listener (/healthz, /readyz, /metrics) listens, <c>;</c>-separated. Default
    /// <c>http://127.0.0.1:9902</c>: loopback, so operational endpoints are never exposed with the API.
    /// </summary>
    public string AdminUrls { get; set; } = "http://127.0.0.1:9902";

    public BootstrapOptions Bootstrap { get; set; } = new();
    public PasswordOptions Passwords { get; set; } = new();
    public LockoutOptions Lockout { get; set; } = new();
    public TokenOptions Tokens { get; set; } = new();
    public SessionOptions Sessions { get; set; } = new();
    public SigningKeyOptions SigningKeys { get; set; } = new();
    public AuditOptions Audit { get; set; } = new();
    public JobOptions Jobs { get; set; } = new();
    public AuthRateLimitsOptions RateLimits { get; set; } = new();
    /// <summary>Deprecated: <c>RateLimit:AuthPerMinute</c>, see <see cref="LegacyAuthRateLimitOptions"/>.</summary>
    public LegacyAuthRateLimitOptions RateLimit { get; set; } = new();
    public ApiKeyOptions ApiKeys { get; set; } = new();

    /// <summary>
    /// Platform operators besides the operator org's mods: user ids (<c>usr_…</c>) or emails. Default empty.
    /// </summary>
    public string[] Operators { get; set; } = [];

    public OrgOptions Orgs { get; set; } = new();
    public LimitOptions Limits { get; set; } = new();
    public StepUpOptions StepUp { get; set; } = new();
    public WebhookOptions Webhooks { get; set; } = new();
    public DataSubjectOptions DataSubjects { get; set; } = new();

    /// <summary>
    /// Audit streams by name (<c>ControlPlane:AuditStreams:&lt;name&gt;:…</c>): each receives every audit event of every
    /// org, in chain order, at least once. Default none.
    /// </summary>
    public Dictionary<string, AuditStreamOptions> AuditStreams { get; set; } = new(StringComparer.Ordinal);

    public RiskOptions Risk { get; set; } = new();
}

/// <summary>Suspicious sign-in detection's location source (impossible travel); without one, that reason is never given.</summary>
internal sealed class RiskOptions
{
    /// <summary>A GeoLite2-City blocks CSV (IPv4 and/or IPv6 networks with latitude and longitude). Default none.</summary>
    public string? LocationCsv { get; set; }

    /// <summary>Optionally its locations CSV (<c>geoname_id</c> to <c>country_iso_code</c>), to name countries. Default none.</summary>
    public string? LocationNamesCsv { get; set; }

    /// <summary>
    /// A password sign-in whose risk score is above this does not complete with the password alone: it needs a second
    /// factor, and is refused (401 <c>sign_in_step_up_required</c>) when the user has none. Default none (off); 0–99.
    /// </summary>
    public int? StepUpAbove { get; set; }

    /// <summary>Distinct emails failing from one address, mostly each with its own password, that make a credential-stuffing alert. Default 10 (3–1 000).</summary>
    public int StuffingThreshold { get; set; } = 10;

    /// <summary>The window <see cref="StuffingThreshold"/> is counted in, per address. Default 10 minutes (10 s – 1 h).</summary>
    public TimeSpan StuffingWindow { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>One audit stream: exactly one of <see cref="Url"/> and <see cref="Directory"/>.</summary>
internal sealed class AuditStreamOptions
{
    /// <summary>An https endpoint receiving NDJSON batches by POST (http only to a loopback address). Default none.</summary>
    public string? Url { get; set; }

    /// <summary>A directory receiving NDJSON files, one per UTC day, rolled over at <see cref="MaxFileBytes"/>. Default none.</summary>
    public string? Directory { get; set; }

    /// <summary>Largest file of a directory stream before the next one starts. Default 64 MiB (1 MiB–1 GiB).</summary>
    public long MaxFileBytes { get; set; } = 64L << 20;

    /// <summary>Events per batch (per org and round). Default 500 (1–10 000).</summary>
    public int BatchSize { get; set; } = 500;
}

internal sealed class OrgOptions
{
    /// <summary>When true any signed-in user may create an org (<c>POST /v1/orgs</c>); default false: operators only.</summary>
    public bool SelfService { get; set; }
}

/// <summary>Bounds on what one request may carry.</summary>
/// <summary>How recent a sign-in the control plane's sensitive actions need.</summary>
internal sealed class StepUpOptions
{
    public const int MinMaxAgeSeconds = 60;
    public const int MaxMaxAgeSeconds = 86_400;

    /// <summary>A sensitive action needs <c>auth_time</c> within this many seconds (60–86400).</summary>
    public int MaxAgeSeconds { get; set; } = 600;
}

internal sealed class LimitOptions
{
    /// <summary>
    /// Largest request body accepted (413 <c>payload_too_large</c> beyond). Default 1 MiB; <see cref="SmallestBodyLimit"/>
    /// (1 KiB) to <see cref="LargestBodyLimit"/> (100 MiB).
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    public const long SmallestBodyLimit = 1024;
    public const long LargestBodyLimit = 100 * 1024 * 1024;
}

/// <summary>First-start org and <c>mod</c> user; used only while there are no users at all.</summary>
internal sealed class BootstrapOptions
{
    public string? OrgName { get; set; }
    public string? AdminEmail { get; set; }
    public string? AdminPassword { get; set; }
}

internal sealed class PasswordOptions
{
    /// <summary>bcrypt work factor. Default 12; <see cref="MinBcryptCost"/> to <see cref="MaxBcryptCost"/>.</summary>
    public int BcryptCost { get; set; } = 12;

    public const int MinBcryptCost = 10;
    public const int MaxBcryptCost = 31;

    /// <summary>
    /// Test-only escape hatch: when set, overrides <see cref="BcryptCost"/> (<see cref="MinInsecureBcryptCost"/> to
    /// <see cref="MaxBcryptCost"/>). Never set in production.
    /// </summary>
    public int? TestOnlyInsecureBcryptCost { get; set; }

    public const int MinInsecureBcryptCost = 4;

    /// <summary>
    /// Shortest password accepted. Default 8, also the least it may be set to; at most bcrypt's 72 bytes
    /// (<see cref="Passwords.PasswordPolicy.MaxBytes"/>).
    /// </summary>
    public int MinLength { get; set; } = LeastMinLength;

    public const int LeastMinLength = 8;

    public bool RequireUpper { get; set; } = true;
    public bool RequireLower { get; set; } = true;
    public bool RequireDigit { get; set; } = true;
    public bool RequireSpecial { get; set; } = true;
}

internal sealed class LockoutOptions
{
    /// <summary>Failures within <see cref="Window"/> that lock the account. Default 5.</summary>
    public int MaxFailures { get; set; } = 5;
    /// <summary>Default 15 minutes.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>Default 15 minutes.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(15);
}

internal sealed class TokenOptions
{
    /// <summary>Access-token lifetime unless the org overrides it. Default 15 minutes, at least <see cref="MinTtlSeconds"/>.</summary>
    public TimeSpan AccessTokenTtl { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Shortest access-token lifetime and idle timeout, configured or per org (seconds).</summary>
    public const long MinTtlSeconds = 60;

    /// <summary>Upper bound for any org's access-token lifetime; drives key retirement. Default 1 hour.</summary>
    public TimeSpan MaxAccessTokenTtl { get; set; } = TimeSpan.FromHours(1);
    /// <summary>Default 30 days.</summary>
    public TimeSpan RefreshTokenTtl { get; set; } = TimeSpan.FromDays(30);
    /// <summary>How long an already-rotated refresh token is still accepted (racing tabs). Default 0.</summary>
    public TimeSpan RefreshReuseGrace { get; set; } = TimeSpan.Zero;
    /// <summary>Clock skew validators allow; added to every "still valid until". Default 1 minute.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);
}

internal sealed class SessionOptions
{
    /// <summary>
    /// Inactivity timeout enforced at refresh, unless the org overrides it. Default 1 hour; at least
    /// <see cref="TokenOptions.MinTtlSeconds"/>, at most <see cref="TokenOptions.RefreshTokenTtl"/>.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromHours(1);
    /// <summary>Concurrent sessions per user and org; the oldest is ended beyond it. Default 10.</summary>
    public int MaxPerUser { get; set; } = 10;
}

internal sealed class SigningKeyOptions
{
    /// <summary>Scheduled rotation period. Default 30 days.</summary>
    public TimeSpan RotationInterval { get; set; } = TimeSpan.FromDays(30);
    /// <summary>How long a new key is in JWKS before it signs. Default 15 minutes.</summary>
    public TimeSpan PrePublish { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>
    /// Keys an org may create per rolling hour (rotations, first key, revocation replacements count). Default 10;
    /// 1 to <see cref="MostRotationsPerHour"/>.
    /// </summary>
    public int MaxRotationsPerHour { get; set; } = 10;

    public const int MostRotationsPerHour = 1000;

    /// <summary>
    /// Keys an org may have in JWKS at once (pending, active, verifying). Default 5; <see cref="FewestPublished"/> to
    /// <see cref="MostPublished"/>: edges accept at most 20 per org.
    /// </summary>
    public int MaxPublishedPerOrg { get; set; } = 5;

    public const int FewestPublished = 3;
    public const int MostPublished = 20;
}

internal sealed class AuditOptions
{
    /// <summary>Default 90 days, per-org override; both within <see cref="MinRetentionDays"/>..<see cref="MaxRetentionDays"/>.</summary>
    public int RetentionDays { get; set; } = 90;

    public const int MinRetentionDays = 7;
    public const int MaxRetentionDays = 3650;
}

internal sealed class JobOptions
{
    /// <summary>Background jobs (key rotation, audit pruning). Default on.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>Default 1 minute.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Token buckets (GCRA) on the control plane's own credential endpoints, each per client address and per account, in the
/// grammar <c>&lt;count&gt;/&lt;period&gt;[ burst &lt;n&gt;]</c> (period ms, s, m or h) or <c>off</c>. A refusal is 429
/// <c>rate_limit_exceeded</c> with <c>Retry-After</c>. IPv6 clients are counted per /64 (one subscriber's prefix).
/// </summary>
internal sealed class AuthRateLimitsOptions
{
    /// <summary>
    /// <c>false</c> turns every limit below off (test hosts and benchmarks that sign in in a loop). Default <c>true</c>.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// <c>POST /v1/auth/login</c>. Per IP default <c>30/1m burst 60</c>: an office behind one NAT can sign 60 people in
    /// at once and one every 2 s after that, while one address gets at most 43 200 guesses a day across all accounts.
    /// Per account (the normalized email, whether or not it exists) default <c>5/1m burst 10</c>: a person who mistypes
    /// gets 10 quick tries, then one every 12 s; with lockout (5 failures) this mainly caps probing of unknown emails
    /// and spraying from many addresses.
    /// </summary>
    public EndpointRateLimitOptions SignIn { get; set; } = new() { PerIp = "30/1m burst 60", PerAccount = "5/1m burst 10" };

    /// <summary>
    /// <c>POST /v1/auth/refresh</c> (and, per IP only, <c>POST /oauth/revoke</c> in its own buckets). Per IP default
    /// <c>120/1m burst 240</c>: thousands of users behind one NAT refreshing every few minutes. Per account (the user the
    /// refresh token belongs to) default <c>20/1m burst 40</c>: ten sessions (the default cap) with racing tabs, while a
    /// client stuck in a refresh loop is slowed to one every 3 s.
    /// </summary>
    public EndpointRateLimitOptions Refresh { get; set; } = new() { PerIp = "120/1m burst 240", PerAccount = "20/1m burst 40" };

    /// <summary>
    /// <c>POST /v1/users/{id}/password</c>. Per IP default <c>10/1m burst 20</c>: a mod resetting a team's passwords.
    /// Per account (the user whose password changes) default <c>5/5m burst 5</c>: the current password is checked with
    /// bcrypt and wrong ones do not lock the account, so someone holding a stolen access token gets 5 guesses and then
    /// one a minute, about 15 in an access token's 15-minute life.
    /// </summary>
    public EndpointRateLimitOptions Password { get; set; } = new() { PerIp = "10/1m burst 20", PerAccount = "5/5m burst 5" };

    /// <summary>
    /// Most keys (addresses or accounts) tracked per limit; about 40 bytes each, so 8 limits stay under ~30 MB however
    /// many distinct addresses or emails a flood uses. Full buckets are dropped first (losslessly). Default 50 000;
    /// <see cref="FewestKeys"/> to <see cref="MostKeys"/>.
    /// </summary>
    public int MaxKeysPerLimit { get; set; } = 50_000;

    public const int FewestKeys = 100;
    public const int MostKeys = 10_000_000;
}

internal sealed class EndpointRateLimitOptions
{
    public string PerIp { get; set; } = "off";
    public string PerAccount { get; set; } = "off";
}

/// <summary>Deprecated single per-IP window, kept so existing settings keep working.</summary>
internal sealed class LegacyAuthRateLimitOptions
{
    /// <summary>
    /// When set (at least 1), <c>RateLimits:{SignIn,Refresh,Password}:PerIp</c> that are not themselves set become
    /// <c>N/1m burst N</c>. Default unset.
    /// </summary>
    public int? AuthPerMinute { get; set; }
}

internal sealed class ApiKeyOptions
{
    /// <summary>
    /// Orgs whose <c>edge:sync</c> keys may call the edge endpoints, which see every org's keys. Default empty: the
    /// operator org only (see <c>PlatformOperators</c>).
    /// </summary>
    public string[] EdgeOrgIds { get; set; } = [];
}
