using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;

namespace Authio.ControlPlane.Audit;

/// <summary>One hour of sign-ins in the org: from <c>start</c> (inclusive) for an hour.</summary>
internal sealed record SignInBucket(
    [property: JsonPropertyName("start")] DateTimeOffset Start,
    [property: JsonPropertyName("succeeded")] long Succeeded,
    [property: JsonPropertyName("failed")] long Failed,
    [property: JsonPropertyName("locked")] long Locked);

/// <summary>Sign-ins of the org per hour, oldest hour first; the last bucket is the current, unfinished hour.</summary>
internal sealed record SignInStatsView(
    [property: JsonPropertyName("hours")] int Hours,
    [property: JsonPropertyName("from")] DateTimeOffset From,
    [property: JsonPropertyName("to")] DateTimeOffset To,
    [property: JsonPropertyName("succeeded")] long Succeeded,
    [property: JsonPropertyName("failed")] long Failed,
    [property: JsonPropertyName("locked")] long Locked,
    [property: JsonPropertyName("buckets")] IReadOnlyList<SignInBucket> Buckets);

/// <summary>
/// Counts of the org's audited sign-ins (<c>login_succeeded</c>), failures (<c>login_failed</c>) and lockouts
/// (<c>account_locked</c>) per clock hour, read from the audit log: the audit is the record of what happened, so the
/// chart agrees with the events a mod can list. Counts only: no emails, addresses or user ids.
/// </summary>
internal sealed class SignInStats(AuditStore store, TimeProvider time)
{
    public const int MaxHours = 168;
    private const long HourMs = 3_600_000;

    private static readonly string[] Events = [AuditEvents.LoginSucceeded, AuditEvents.LoginFailed, AuditEvents.AccountLocked];

    public async Task<SignInStatsView> HourlyAsync(string orgId, int hours, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var firstHour = now / HourMs - (hours - 1);
        var counts = await store.HourlyCountsAsync(orgId, Events, firstHour * HourMs, ct);
        var buckets = new List<SignInBucket>(hours);
        for (var h = firstHour; h < firstHour + hours; h++)
        {
            long Count(string ev) => counts.Where(c => c.Hour == h && c.Event == ev).Sum(c => c.Count);
            buckets.Add(new SignInBucket(DateTimeOffset.FromUnixTimeMilliseconds(h * HourMs),
                Count(AuditEvents.LoginSucceeded), Count(AuditEvents.LoginFailed), Count(AuditEvents.AccountLocked)));
        }

        return new SignInStatsView(hours, DateTimeOffset.FromUnixTimeMilliseconds(firstHour * HourMs), DateTimeOffset.FromUnixTimeMilliseconds(now),
            buckets.Sum(b => b.Succeeded), buckets.Sum(b => b.Failed), buckets.Sum(b => b.Locked), buckets);
    }
}

internal static class SignInStatsEndpoints
{
    /// <summary><c>GET /v1/org/stats/sign-ins?hours=24</c>: counts only, so any member may read them (the events themselves are for mods).</summary>
    public static void MapSignInStatsEndpoints(this RouteGroupBuilder v1) =>
        v1.MapGet("/org/stats/sign-ins", async ([Range(1, SignInStats.MaxHours)] int? hours, SignInStats stats, HttpContext http) =>
                Results.Ok(await stats.HourlyAsync(Caller.Of(http).OrgId, hours ?? 24, http.RequestAborted)))
            .WithTags("Orgs").Produces<SignInStatsView>()
            .WithSummary("The org's sign-ins, failures and lockouts per hour over the last hours (1-168, default 24), from the audit log (any member)");
}
