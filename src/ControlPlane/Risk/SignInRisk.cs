using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;

namespace Authio.ControlPlane.Risk;

/// <summary>
/// What a sign-in looks like before it completes: its reasons (none: nothing unusual), its risk score 0–100, and what
/// the history keeps of it once it completes.
/// </summary>
internal sealed class RiskAssessment(List<string> reasons, int score, Dictionary<string, string?>? extra, string network, string device, GeoLocation? location, long at)
{
    public IReadOnlyList<string> Reasons => reasons;
    public int Score => Math.Min(score, 100);
    public bool Suspicious => reasons.Count > 0;
    internal Dictionary<string, string?>? Extra => extra;
    internal string Network => network;
    internal string Device => device;
    internal GeoLocation? Location => location;
    internal long At => at;
}

/// <summary>
/// Flags suspicious sign-ins as <c>suspicious_sign_in</c> audit events (reasons and a risk score 0–100; the event reaches
/// the org's audit log and whatever follows it): a successful sign-in from a network <b>and</b> a device the user has not
/// used lately (networks as IPv4 /24 and IPv6 /48 prefixes, devices as a digest of the user agent), a sign-in soon after
/// the account was locked, impossible travel, refresh-token reuse, and two bursts of failures from one address —
/// password spraying (many accounts, few passwords) and credential stuffing (many emails, each with its own password) —
/// each reported once per address and window, not once per account.
/// </summary>
internal sealed partial class SignInRisk(
    SignInHistoryStore history, AuditLog audit, Hosting.ControlPlaneOptions options, TimeProvider time, ILogger<SignInRisk> logger, LocationTable? locations = null)
{
    /// <summary>Faster than an airliner between two sign-ins this far apart: impossible travel.</summary>
    public const double ImpossibleKmPerHour = 1000;

    /// <summary>Closer than this, two locations are one (the data's accuracy, and neighbouring cities).</summary>
    public const double MinTravelKm = 500;

    /// <summary>Distinct accounts failing from one address within <see cref="SprayWindow"/> that make a spraying alert.</summary>
    public const int SprayThreshold = 10;

    public static readonly TimeSpan SprayWindow = TimeSpan.FromMinutes(10);

    /// <summary>A sign-in this soon after the account's lock ended is reported (the guesser may have got it right at last).</summary>
    public static readonly TimeSpan AfterLockoutWindow = TimeSpan.FromHours(1);

    /// <summary>Addresses followed for bursts at once; beyond it the quietest are forgotten (a flood of addresses is not one burst).</summary>
    private const int MaxTrackedAddresses = 10_000;

    /// <summary>Accounts (and passwords) remembered per address and window; enough to decide, bounded whatever one address sends.</summary>
    public const int MaxPerBurst = 1_000;

    private readonly Dictionary<string, Burst> _sprays = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Burst> _stuffing = new(StringComparer.Ordinal);

    /// <summary>
    /// Keys the in-memory digests of failed passwords: random per process, so a digest is worth nothing outside it. Only
    /// how many different passwords an address tried is ever read from them.
    /// </summary>
    private readonly byte[] _passwordKey = RandomNumberGenerator.GetBytes(32);

    private sealed class Burst(long start)
    {
        public long Start { get; } = start;
        public HashSet<string> Accounts { get; } = new(StringComparer.Ordinal);
        public HashSet<long> Passwords { get; } = [];
        public HashSet<string> Orgs { get; } = new(StringComparer.Ordinal);
        public int Unknown { get; set; }
        public bool Reported { get; set; }
    }

    /// <summary>Whether a lock that ended at <paramref name="lockedUntil"/> ended within <see cref="AfterLockoutWindow"/> before <paramref name="now"/>.</summary>
    public static bool LockEndedRecently(long? lockedUntil, long now) =>
        lockedUntil is { } until && until <= now && now - until < (long)AfterLockoutWindow.TotalMilliseconds;

    /// <summary>
    /// Weighs a sign-in about to complete against the user's recent ones; changes nothing (a sign-in that is then
    /// refused leaves no trace in the history, so a refused attacker's network never becomes the user's).
    /// </summary>
    public async Task<RiskAssessment> AssessAsync(string userId, ClientInfo client, bool afterLockout, CancellationToken ct)
    {
        var network = NetworkOf(client.Ip);
        var device = DeviceOf(client.UserAgent);
        var seen = await history.RecentAsync(userId, ct);
        var reasons = new List<string>();
        var score = 0;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var here = locations?.Find(client.Ip);
        Dictionary<string, string?>? extra = null;
        if (here is { } to && seen.FirstOrDefault(s => s.Latitude is not null && s.Longitude is not null) is { } last)
        {
            var km = LocationTable.DistanceKm(new GeoLocation(last.Latitude!.Value, last.Longitude!.Value, null), to);
            var hours = Math.Max(now - last.LastSeen, 60_000) / 3_600_000.0;
            if (km >= MinTravelKm && km / hours > ImpossibleKmPerHour)
            {
                reasons.Add("impossible_travel");
                score += 70;
                extra = new()
                {
                    ["distance_km"] = Math.Round(km).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["minutes_since_last"] = ((now - last.LastSeen) / 60_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["country"] = to.Country,
                };
            }
        }
        // A first sign-in has nothing to compare with: not suspicious on that account alone.
        if (seen.Count > 0 && !seen.Any(s => s.Network == network) && !seen.Any(s => s.Device == device))
        {
            reasons.Add("new_network");
            reasons.Add("new_device");
            score += 60;
        }
        if (afterLockout)
        {
            reasons.Add("after_lockout");
            score += 30;
        }
        return new RiskAssessment(reasons, score, extra, network, device, here, now);
    }

    /// <summary>
    /// A sign-in that completed (session <paramref name="sessionId"/>): reported when its assessment is suspicious
    /// (<paramref name="secondFactor"/>: the factor it completed with, if any), then remembered in the user's history.
    /// </summary>
    public async Task CompletedAsync(string orgId, string userId, string? email, string sessionId, ClientInfo client, RiskAssessment assessment,
        string? secondFactor, CancellationToken ct)
    {
        if (assessment.Suspicious)
        {
            var extra = assessment.Extra is null ? new Dictionary<string, string?>() : new Dictionary<string, string?>(assessment.Extra);
            if (secondFactor is not null)
            {
                extra["second_factor"] = secondFactor;
            }
            await ReportAsync(orgId, [.. assessment.Reasons], assessment.Score, client, ct, userId, email, sessionId, extra);
        }
        await history.RememberAsync(userId, assessment.Network, assessment.Device, assessment.At, assessment.Location, ct);
    }

    /// <summary>A sign-in refused for its risk (<c>ControlPlane:Risk:StepUpAbove</c>): reported with <c>action: refused</c>, not remembered.</summary>
    public Task RefusedAsync(string orgId, string userId, string? email, ClientInfo client, RiskAssessment assessment, CancellationToken ct)
    {
        var extra = assessment.Extra is null ? new Dictionary<string, string?>() : new Dictionary<string, string?>(assessment.Extra);
        extra["action"] = "refused";
        return ReportAsync(orgId, [.. assessment.Reasons], assessment.Score, client, ct, userId, email, null, extra);
    }

    /// <summary>Whether <paramref name="assessment"/> is too risky for a sign-in without a second factor (<c>ControlPlane:Risk:StepUpAbove</c>).</summary>
    public bool NeedsSecondFactor(RiskAssessment assessment) => options.Risk.StepUpAbove is { } above && assessment.Score > above;

    /// <summary>A refresh token presented again after it was rotated (the session has been ended for it).</summary>
    public Task RefreshReusedAsync(string orgId, string userId, string sessionId, ClientInfo client, CancellationToken ct) =>
        ReportAsync(orgId, ["refresh_token_reuse"], 80, client, ct, userId, null, sessionId);

    /// <summary>
    /// A failed sign-in (wrong password, or an unknown account: <paramref name="knownAccount"/> false) for
    /// <paramref name="accountKey"/> with <paramref name="password"/> from the client's address, in <paramref name="orgs"/>.
    /// From one address, within a window: <see cref="SprayThreshold"/> different accounts tried with few passwords (at
    /// least two accounts a password on average) is <c>password_spraying</c>; <c>Risk:StuffingThreshold</c> different
    /// emails tried with mostly a password each (leaked pairs) is <c>credential_stuffing</c>. Each is reported once per
    /// address and window, to each org whose accounts were tried (the internal chain for unknown ones).
    /// </summary>
    public async Task FailedAsync(string accountKey, bool knownAccount, string password, IReadOnlyList<string> orgs, ClientInfo client, CancellationToken ct)
    {
        var address = client.Ip ?? "unknown";
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var digest = BitConverter.ToInt64(HMACSHA256.HashData(_passwordKey, Encoding.UTF8.GetBytes(password)), 0);
        var spray = Track(_sprays, (long)SprayWindow.TotalMilliseconds, SprayThreshold, address, accountKey, knownAccount, digest, orgs, now,
            b => b.Passwords.Count * 2 <= b.Accounts.Count);
        var stuffing = Track(_stuffing, (long)options.Risk.StuffingWindow.TotalMilliseconds, options.Risk.StuffingThreshold, address, accountKey, knownAccount, digest,
            orgs, now, b => b.Passwords.Count * 2 > b.Accounts.Count);
        if (spray is { } sprayed)
        {
            Log.Burst(logger, "password_spraying", sprayed.Accounts, sprayed.Unknown, sprayed.Passwords);
            foreach (var org in sprayed.Orgs)
            {
                await ReportAsync(org, ["password_spraying"], 90, client, ct, extra: new() { ["distinct_accounts"] = Count(sprayed.Accounts) });
            }
        }
        if (stuffing is { } stuffed)
        {
            Log.Burst(logger, "credential_stuffing", stuffed.Accounts, stuffed.Unknown, stuffed.Passwords);
            foreach (var org in stuffed.Orgs)
            {
                await ReportAsync(org, ["credential_stuffing"], 90, client, ct, extra: new()
                {
                    ["distinct_accounts"] = Count(stuffed.Accounts), ["unknown_accounts"] = Count(stuffed.Unknown), ["distinct_passwords"] = Count(stuffed.Passwords),
                });
            }
        }
    }

    /// <summary>Counts one failure in <paramref name="bursts"/>; the burst's figures when it has just become reportable, else null.</summary>
    private static (string[] Orgs, int Accounts, int Unknown, int Passwords)? Track(Dictionary<string, Burst> bursts, long windowMs, int threshold, string address,
        string accountKey, bool knownAccount, long password, IReadOnlyList<string> orgs, long now, Func<Burst, bool> pattern)
    {
        lock (bursts)
        {
            if (!bursts.TryGetValue(address, out var burst) || now - burst.Start > windowMs)
            {
                if (bursts.Count >= MaxTrackedAddresses)
                {
                    bursts.Clear();
                }
                bursts[address] = burst = new Burst(now);
            }
            if (burst.Reported || burst.Accounts.Count >= MaxPerBurst)
            {
                return null;
            }
            if (burst.Accounts.Add(accountKey) && !knownAccount)
            {
                burst.Unknown++;
            }
            burst.Passwords.Add(password);
            foreach (var org in orgs)
            {
                burst.Orgs.Add(org);
            }
            if (burst.Accounts.Count < threshold || !pattern(burst))
            {
                return null;
            }
            burst.Reported = true;
            return ([.. burst.Orgs], burst.Accounts.Count, burst.Unknown, burst.Passwords.Count);
        }
    }

    private static string Count(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private Task ReportAsync(string orgId, List<string> reasons, int score, ClientInfo client, CancellationToken ct,
        string? userId = null, string? email = null, string? sessionId = null, Dictionary<string, string?>? extra = null)
    {
        Log.Suspicious(logger, orgId, string.Join(',', reasons), Math.Min(score, 100));
        var details = new Dictionary<string, string?> { ["reasons"] = string.Join(',', reasons), ["risk_score"] = Math.Min(score, 100).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var (k, v) in extra ?? [])
        {
            details[k] = v;
        }
        return audit.RecordAsync(new AuditEntry(orgId, AuditEvents.SuspiciousSignIn, "failure")
        {
            UserId = userId, Email = email, SessionId = sessionId, Ip = client.Ip, UserAgent = client.UserAgent, Details = details,
        }, ct);
    }

    /// <summary>IPv4 by its /24, IPv6 by its /48 (a site); no or an unparsable address is one network of its own.</summary>
    internal static string NetworkOf(string? ip)
    {
        if (ip is null || !IPAddress.TryParse(ip, out var address))
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        var bytes = address.GetAddressBytes();
        var keep = address.AddressFamily == AddressFamily.InterNetwork ? 3 : 6;
        Array.Clear(bytes, keep, bytes.Length - keep);
        return new IPAddress(bytes) + (keep == 3 ? "/24" : "/48");
    }

    /// <summary>A digest of the user agent: enough to tell devices apart, nothing to read back.</summary>
    internal static string DeviceOf(string? userAgent) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(userAgent ?? "")))[..32];
}
