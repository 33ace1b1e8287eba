using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;

namespace Authio.ControlPlane.Risk;

/// <summary>
/// Flags suspicious sign-ins as <c>suspicious_sign_in</c> audit events (reasons and a risk score 0–100; the event reaches
/// the org's audit log and whatever follows it): a successful sign-in from a network <b>and</b> a device the user has not
/// used lately (networks as IPv4 /24 and IPv6 /48 prefixes, devices as a digest of the user agent), a sign-in soon after
/// the account was locked, refresh-token reuse, and password spraying — many different accounts failing from one
/// address, reported once per address and window, not once per account.
/// </summary>
internal sealed class SignInRisk(SignInHistoryStore history, AuditLog audit, TimeProvider time, LocationTable? locations = null)
{
    /// <summary>Faster than an airliner between two sign-ins this far apart: impossible travel.</summary>
    public const double ImpossibleKmPerHour = 1000;

    /// <summary>Closer than this, two locations are one (the data's accuracy, and neighbouring cities).</summary>
    public const double MinTravelKm = 500;

    /// <summary>Distinct accounts failing from one address within <see cref="SprayWindow"/> that make a spraying alert.</summary>
    public const int SprayThreshold = 10;

    public static readonly TimeSpan SprayWindow = TimeSpan.FromMinutes(10);

    /// <summary>Addresses followed for spraying at once; beyond it the quietest are forgotten (a flood of addresses is not spraying).</summary>
    private const int MaxTrackedAddresses = 10_000;

    private readonly Dictionary<string, Spray> _sprays = new(StringComparer.Ordinal);

    private sealed class Spray(long start)
    {
        public long Start { get; set; } = start;
        public HashSet<string> Accounts { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Orgs { get; } = new(StringComparer.Ordinal);
        public bool Reported { get; set; }
    }

    /// <summary>A complete sign-in: compares it with the user's recent ones, reports it when suspicious, remembers it.</summary>
    public async Task SucceededAsync(string orgId, string userId, string? email, string? sessionId, ClientInfo client, bool afterLockout, CancellationToken ct)
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
        if (reasons.Count > 0)
        {
            await ReportAsync(orgId, reasons, score, client, ct, userId, email, sessionId, extra);
        }
        await history.RememberAsync(userId, network, device, now, here, ct);
    }

    /// <summary>A refresh token presented again after it was rotated (the session has been ended for it).</summary>
    public Task RefreshReusedAsync(string orgId, string userId, string sessionId, ClientInfo client, CancellationToken ct) =>
        ReportAsync(orgId, ["refresh_token_reuse"], 80, client, ct, userId, null, sessionId);

    /// <summary>
    /// A failed sign-in (wrong password or unknown account) for <paramref name="accountKey"/> from the client's address,
    /// in <paramref name="orgs"/>. When <see cref="SprayThreshold"/> different accounts fail from one address within the
    /// window, one alert goes to each org whose accounts were tried (the internal chain for unknown ones).
    /// </summary>
    public async Task FailedAsync(string accountKey, IReadOnlyList<string> orgs, ClientInfo client, CancellationToken ct)
    {
        var address = client.Ip ?? "unknown";
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        List<string>? report = null;
        int accounts;
        lock (_sprays)
        {
            if (!_sprays.TryGetValue(address, out var spray) || now - spray.Start > SprayWindow.TotalMilliseconds)
            {
                if (_sprays.Count >= MaxTrackedAddresses)
                {
                    _sprays.Clear();
                }
                _sprays[address] = spray = new Spray(now);
            }
            spray.Accounts.Add(accountKey);
            foreach (var org in orgs)
            {
                spray.Orgs.Add(org);
            }
            accounts = spray.Accounts.Count;
            if (!spray.Reported && accounts >= SprayThreshold)
            {
                spray.Reported = true;
                report = [.. spray.Orgs];
            }
        }
        foreach (var org in report ?? [])
        {
            await ReportAsync(org, ["password_spraying"], 90, client, ct, extra: new() { ["distinct_accounts"] = accounts.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }
    }

    private Task ReportAsync(string orgId, List<string> reasons, int score, ClientInfo client, CancellationToken ct,
        string? userId = null, string? email = null, string? sessionId = null, Dictionary<string, string?>? extra = null)
    {
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
