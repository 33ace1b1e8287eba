using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Authio.ControlPlane.Hosting;

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
/// The per-IP and per-account token buckets of the credential endpoints (<c>ControlPlane:RateLimits</c>). In memory and
/// per instance: N instances behind a load balancer admit up to N times a limit, which is still a hard cap per address
/// and account. Bucket keys are salted SHA-256 digests (128 bits) of the normalized address or account, so neither
/// emails nor addresses are kept, and the key space cannot be steered into collisions.
/// </summary>
internal sealed partial class AuthRateLimiter
{
    private readonly Limit?[] _perIp;
    private readonly Limit?[] _perAccount;
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly ILogger<AuthRateLimiter> _logger;
    private readonly byte[] _salt = RandomNumberGenerator.GetBytes(16);

    public AuthRateLimiter(ControlPlaneOptions options, TimeProvider time, ILogger<AuthRateLimiter> logger)
    {
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
    public RateLimitVerdict CheckIp(LimitedAction action, IPAddress? address) => Check(_perIp[(int)action], AddressKey(address));

    /// <summary>
    /// Takes a request from the account's bucket: the normalized email for sign-in (existing or not), the user id for
    /// refresh and password changes.
    /// </summary>
    public RateLimitVerdict CheckAccount(LimitedAction action, string account) => Check(_perAccount[(int)action], account);

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
        public string Name { get; } = name;
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
