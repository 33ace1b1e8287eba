using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Redis;
using Authio.ControlPlane.SigningKeys;

namespace Authio.ControlPlane.RateLimiting;

/// <summary>Which credential endpoint a limit guards; each has its own buckets.</summary>
internal enum LimitedAction
{
    /// <summary><c>POST /v1/auth/login</c>.</summary>
    SignIn,
    /// <summary><c>POST /v1/auth/refresh</c>.</summary>
    Refresh,
    /// <summary><c>POST /v1/users/{id}/password</c>.</summary>
    Password,
    /// <summary><c>POST /oauth/revoke</c>: per IP only, under the <c>Refresh:PerIp</c> rule, in buckets of their own.</summary>
    Revoke,
}

/// <summary>
/// The per-IP and per-account token buckets of the credential endpoints (<c>ControlPlane:RateLimits</c>). With
/// <c>ControlPlane:Redis</c> the buckets live in Redis and hold for the whole fleet (<see cref="RedisAuthRateBuckets"/>);
/// while Redis does not answer, and without Redis, each instance decides alone from its own buckets (N instances behind
/// a load balancer then admit up to N times a limit, still a hard cap per address and account; the fall-back is logged
/// once per outage). Bucket keys are salted SHA-256 digests (128 bits) of the normalized address or account, so neither
/// emails nor addresses are kept, and the key space cannot be steered into collisions; the fleet's salt is derived from
/// the master key every instance shares.
/// </summary>
internal sealed partial class AuthRateLimiter
{
    private readonly Limit?[] _perIp;
    private readonly Limit?[] _perAccount;
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly ILogger<AuthRateLimiter> _logger;
    private readonly byte[] _salt;
    private readonly RedisAuthRateBuckets? _fleet;
    private int _fleetDown;

    public AuthRateLimiter(ControlPlaneOptions options, TimeProvider time, ILogger<AuthRateLimiter> logger, MasterKey? master = null, ControlPlaneRedis? redis = null)
    {
        _salt = master?.Derive("auth-rate-limit-keys/v1", 16) ?? RandomNumberGenerator.GetBytes(16);
        _fleet = redis is null || master is null ? null : new RedisAuthRateBuckets(redis);
        _time = time;
        _origin = time.GetTimestamp();
        _logger = logger;
        var r = options.RateLimits;
        var capacity = r.MaxKeysPerLimit;
        if (!r.Enabled)
        {
            _perIp = new Limit?[4];
            _perAccount = new Limit?[4];
            return;
        }
        _perIp =
        [
            Limit.Create("sign-in per IP", r.SignIn.PerIp, capacity),
            Limit.Create("refresh per IP", r.Refresh.PerIp, capacity),
            Limit.Create("password per IP", r.Password.PerIp, capacity),
            Limit.Create("token revocation per IP", r.Refresh.PerIp, capacity),
        ];
        _perAccount =
        [
            Limit.Create("sign-in per account", r.SignIn.PerAccount, capacity),
            Limit.Create("refresh per account", r.Refresh.PerAccount, capacity),
            Limit.Create("password per account", r.Password.PerAccount, capacity),
            null,
        ];
    }

    /// <summary>Takes a request from the client address's bucket (IPv6 per /64; no address counts as one client).</summary>
    public ValueTask<RateLimitVerdict> CheckIpAsync(LimitedAction action, IPAddress? address, CancellationToken ct = default) =>
        CheckAsync(_perIp[(int)action], AddressKey(address), ct);

    /// <summary>
    /// Takes a request from the account's bucket: the normalized email for sign-in (existing or not), the user id for
    /// refresh and password changes.
    /// </summary>
    public ValueTask<RateLimitVerdict> CheckAccountAsync(LimitedAction action, string account, CancellationToken ct = default) =>
        CheckAsync(_perAccount[(int)action], account, ct);

    /// <summary>True while the buckets are fleet-wide (Redis configured and answering).</summary>
    public bool FleetWide => _fleet is not null && Volatile.Read(ref _fleetDown) == 0;

    private ValueTask<RateLimitVerdict> CheckAsync(Limit? limit, string key, CancellationToken ct) =>
        limit is null ? ValueTask.FromResult(RateLimitVerdict.Admit)
        : _fleet is null ? ValueTask.FromResult(Check(limit, key))
        : CheckFleetAsync(limit, key, ct);

    private async ValueTask<RateLimitVerdict> CheckFleetAsync(Limit limit, string key, CancellationToken ct)
    {
        var digest = Digest(key);
        var retryAfter = await _fleet!.TakeAsync(limit.Index + ":" + digest.ToString("x32", System.Globalization.CultureInfo.InvariantCulture), limit.Rule, ct);
        if (retryAfter is not { } wait)
        {
            if (Interlocked.Exchange(ref _fleetDown, 1) == 0)
            {
                Log.FleetUnavailable(_logger);
            }
            return Check(limit, key);
        }
        if (Interlocked.Exchange(ref _fleetDown, 0) == 1)
        {
            Log.FleetRestored(_logger);
        }
        if (wait == TimeSpan.Zero)
        {
            return RateLimitVerdict.Admit;
        }

        var verdict = new RateLimitVerdict(false, wait, limit.FirstRefusal(digest, Now));
        if (verdict.FirstRefusal)
        {
            Log.Limited(_logger, limit.Name, limit.Rule.Text, verdict.RetryAfterSeconds);
        }
        return verdict;
    }

    /// <summary>The per-account rule of <paramref name="action"/>, null when off.</summary>
    public AuthRateRule? AccountRule(LimitedAction action) => _perAccount[(int)action]?.Rule;

    /// <summary>The table behind a limit (tests assert its bounds); null when the limit is off.</summary>
    internal AuthRateBuckets? Table(LimitedAction action, bool perAccount) => (perAccount ? _perAccount : _perIp)[(int)action]?.Table;

    private long Now => _time.GetElapsedTime(_origin).Ticks;

    private RateLimitVerdict Check(Limit? limit, string key)
    {
        if (limit is null)
        {
            return RateLimitVerdict.Admit;
        }

        var now = Now;
        var verdict = limit.Table.Take(Digest(key), limit.Rule, now);
        if (verdict.FirstRefusal)
        {
            Log.Limited(_logger, limit.Name, limit.Rule.Text, verdict.RetryAfterSeconds);
        }

        var evictions = limit.Table.ActiveEvictions;
        if (evictions != limit.LoggedEvictions && now >= limit.NextEvictionLog)
        {
            // At most once a minute per limit: a flood that overflows the table would otherwise log on every request.
            limit.NextEvictionLog = now + TimeSpan.TicksPerMinute;
            Log.ActiveEvictions(_logger, limit.Name, limit.Table.Capacity, evictions - limit.LoggedEvictions);
            limit.LoggedEvictions = evictions;
        }
        return verdict;
    }

    private UInt128 Digest(string key)
    {
        var text = Encoding.UTF8.GetBytes(key);
        var input = new byte[_salt.Length + text.Length];
        _salt.CopyTo(input, 0);
        text.CopyTo(input, _salt.Length);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input, hash);
        return BitConverter.ToUInt128(hash);
    }

    /// <summary>IPv4 (also when mapped into IPv6) as is; IPv6 by its /64, which one subscriber usually holds whole.</summary>
    internal static string AddressKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private sealed class Limit(string name, AuthRateRule rule, AuthRateBuckets table)
    {
        private readonly Dictionary<UInt128, long> _reportedUntil = [];

        public string Name { get; } = name;

        /// <summary>The limit's place in the key space of the fleet's buckets (its name without spaces).</summary>
        public string Index { get; } = name.Replace(' ', '-');

        /// <summary>
        /// Fleet buckets: whether this instance reports a refusal of <paramref name="key"/> (once per key and rule period,
        /// as the local buckets do). Bounded: forgets everything at the table's capacity.
        /// </summary>
        public bool FirstRefusal(UInt128 key, long now)
        {
            lock (_reportedUntil)
            {
                if (_reportedUntil.TryGetValue(key, out var until) && until > now)
                {
                    return false;
                }

                if (_reportedUntil.Count >= Table.Capacity)
                {
                    _reportedUntil.Clear();
                }
                _reportedUntil[key] = now + Rule.Period.Ticks;
                return true;
            }
        }

        public AuthRateRule Rule { get; } = rule;
        public AuthRateBuckets Table { get; } = table;
        public long LoggedEvictions { get; set; }
        public long NextEvictionLog { get; set; }

        /// <summary>Null when the rule is <c>off</c>. Options were validated at start-up, so parsing cannot fail here.</summary>
        public static Limit? Create(string name, string text, int capacity)
        {
            if (!AuthRateRule.TryParse(text, out var rule, out var error))
            {
                throw new InvalidOperationException(error);
            }

            return rule is null ? null : new Limit(name, rule, new AuthRateBuckets(capacity));
        }
    }
}
