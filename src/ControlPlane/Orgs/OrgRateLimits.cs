using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Storage;
using Authio.Shared.RateLimits;

namespace Authio.ControlPlane.Orgs;

/// <summary>An org's rate limit at the edges; <see cref="Default"/> null when the org has none (the edge's own default applies).</summary>
internal sealed record OrgRateLimitsView(
    [property: JsonPropertyName("org_id")] string OrgId,
    [property: JsonPropertyName("default")] string? Default);

/// <summary><see cref="Default"/>: a limit in the <c>Authio.RateLimit</c> grammar; null or empty clears the org's limit.</summary>
/// <summary><c>default</c> null or empty clears the limit, so it is optional.</summary>
internal sealed record OrgRateLimitsRequest([property: JsonPropertyName("default"), StringLength(200)] string? Default = null);

/// <summary>
/// Per-org rate limits the edges enforce for routes without their own <c>Authio.RateLimit</c>. A change is stored and
/// appended to the edge change log in one transaction, so every edge gets it in order (or in its next snapshot).
/// </summary>
internal sealed class OrgRateLimitService(Db db, EdgeChangeStore changes, AuditLog audit, TimeProvider time)
{
    public const string Field = "default";

    public Task<OrgRateLimitsView> GetAsync(string orgId, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => new OrgRateLimitsView(orgId, await OrgStore.RateLimitAsync(c, tx, orgId)), ct);

    /// <summary>
    /// Checks a limit with the edge's parser without storing anything: the normalised text, or the parser's own error
    /// (what <see cref="SetAsync"/> would answer). Blank text is valid and means "clear".
    /// </summary>
    public static Result<OrgRateLimitsView> Validate(string orgId, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return new OrgRateLimitsView(orgId, null);
        }

        if (!RateLimitSpec.TryParse(text, out var spec, out var error))
        {
            return Failure.Invalid(Field, $"{error}. Expected '{RateLimitSpec.Grammar}', e.g. '100/1s burst 200 per org'.") with
            {
                Detail = $"'{Field}' is not a valid rate limit.",
            };
        }

        return new OrgRateLimitsView(orgId, spec.Text);
    }

    /// <summary>Sets (or with null/blank text clears) the org's limit. The text is stored normalised, as the edge parses it.</summary>
    public async Task<Result<OrgRateLimitsView>> SetAsync(string orgId, string? text, Caller actor, CancellationToken ct)
    {
        var valid = Validate(orgId, text);
        if (valid.Error is not null)
        {
            return valid;
        }

        var normalized = valid.Value!.Default;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var previous = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            // Lock first: this transaction reads, then writes and appends (see EdgeChangeStore.LockAsync).
            await changes.LockAsync(c, tx);
            var current = await OrgStore.RateLimitAsync(c, tx, orgId);
            if (current == normalized)
            {
                return (Changed: false, Current: current);
            }

            await OrgStore.SetRateLimitAsync(c, tx, orgId, normalized, actor.UserId, now);
            await changes.AppendOrgRateLimitAsync(c, tx, orgId, normalized);
            return (Changed: true, Current: current);
        }, ct);
        if (previous.Changed)
        {
            await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.OrgRateLimitChanged)
            {
                ActorId = actor.UserId, Ip = actor.Client.Ip, UserAgent = actor.Client.UserAgent,
                Details = new() { ["rate_limit"] = normalized, ["previous"] = previous.Current },
            }, ct);
        }
        return new OrgRateLimitsView(orgId, normalized);
    }
}
