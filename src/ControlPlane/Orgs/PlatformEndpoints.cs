using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Orgs;

/// <summary>An org in the operator's list.</summary>
internal sealed record OrgListItem(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("operator")] bool Operator);

/// <summary>
/// The platform's effective settings as configured (<c>ControlPlane:*</c>), read-only: what operators need to reason
/// about the fleet and the tenants' limits. Never a secret (master key, connection strings, bootstrap password) and not
/// the operators' identities; durations in seconds.
/// </summary>
internal sealed record PlatformSettingsView(
    [property: JsonPropertyName("issuer")] string Issuer,
    [property: JsonPropertyName("audience")] string Audience,
    [property: JsonPropertyName("tokens")] IReadOnlyDictionary<string, double> Tokens,
    [property: JsonPropertyName("sessions")] IReadOnlyDictionary<string, double> Sessions,
    [property: JsonPropertyName("lockout")] IReadOnlyDictionary<string, double> Lockout,
    [property: JsonPropertyName("signing_keys")] IReadOnlyDictionary<string, double> SigningKeys,
    [property: JsonPropertyName("audit_retention_days")] int AuditRetentionDays,
    [property: JsonPropertyName("credential_rate_limits")] IReadOnlyDictionary<string, string> CredentialRateLimits,
    [property: JsonPropertyName("feed_transport")] string FeedTransport,
    [property: JsonPropertyName("self_service_orgs")] bool SelfServiceOrgs,
    [property: JsonPropertyName("configured_operators")] int ConfiguredOperators,
    [property: JsonPropertyName("edge_org_ids")] IReadOnlyList<string> EdgeOrgIds,
    [property: JsonPropertyName("max_request_body_bytes")] long MaxRequestBodyBytes)
{
    public static PlatformSettingsView From(ControlPlaneOptions o)
    {
        var limits = o.RateLimits;
        string Limit(string value) => limits.Enabled ? value : "off";
        return new(o.Issuer, o.Audience,
            new Dictionary<string, double>
            {
                ["access_token_ttl_seconds"] = o.Tokens.AccessTokenTtl.TotalSeconds,
                ["max_access_token_ttl_seconds"] = o.Tokens.MaxAccessTokenTtl.TotalSeconds,
                ["refresh_token_ttl_seconds"] = o.Tokens.RefreshTokenTtl.TotalSeconds,
                ["refresh_reuse_grace_seconds"] = o.Tokens.RefreshReuseGrace.TotalSeconds,
                ["clock_skew_seconds"] = o.Tokens.ClockSkew.TotalSeconds,
            },
            new Dictionary<string, double>
            {
                ["idle_timeout_seconds"] = o.Sessions.IdleTimeout.TotalSeconds,
                ["max_per_user"] = o.Sessions.MaxPerUser,
            },
            new Dictionary<string, double>
            {
                ["max_failures"] = o.Lockout.MaxFailures,
                ["window_seconds"] = o.Lockout.Window.TotalSeconds,
                ["duration_seconds"] = o.Lockout.Duration.TotalSeconds,
            },
            new Dictionary<string, double>
            {
                ["rotation_interval_seconds"] = o.SigningKeys.RotationInterval.TotalSeconds,
                ["pre_publish_seconds"] = o.SigningKeys.PrePublish.TotalSeconds,
                ["max_rotations_per_hour"] = o.SigningKeys.MaxRotationsPerHour,
                ["max_published_per_org"] = o.SigningKeys.MaxPublishedPerOrg,
            },
            o.Audit.RetentionDays,
            new Dictionary<string, string>
            {
                ["sign_in_per_ip"] = Limit(limits.SignIn.PerIp),
                ["sign_in_per_account"] = Limit(limits.SignIn.PerAccount),
                ["refresh_per_ip"] = Limit(limits.Refresh.PerIp),
                ["refresh_per_account"] = Limit(limits.Refresh.PerAccount),
                ["password_per_ip"] = Limit(limits.Password.PerIp),
                ["password_per_account"] = Limit(limits.Password.PerAccount),
            },
            // Edges long-poll the HTTP feed always; with Redis configured changes are also pushed (the URL is a secret).
            string.IsNullOrWhiteSpace(o.Redis) ? "http" : "redis",
            o.Orgs.SelfService, o.Operators.Length, o.ApiKeys.EdgeOrgIds, o.Limits.MaxRequestBodyBytes);
    }
}

internal static class PlatformEndpoints
{
    private const int DefaultPage = 50;

    public static void MapPlatformEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapGet("/orgs", async Task<IResult> ([Range(1, Paging.MaxLimit)] int? limit, [StringLength(Paging.MaxCursorLength)] string? cursor,
                OrgStore orgs, HttpContext http) =>
            {
                (long, string)? after = null;
                if (cursor is not null)
                {
                    if (Paging.Keys(cursor, "orgs", 2) is not [var created, var id] || !Paging.TryLong(created, out var createdAt))
                    {
                        return Failure.Invalid("cursor", Paging.BadCursor);
                    }

                    after = (createdAt, id);
                }

                var take = limit ?? DefaultPage;
                var rows = await orgs.PageAsync(after, take + 1, http.RequestAborted);
                var page = rows.Take(take).ToList();
                Paging.Next(http, rows.Count > take ? Paging.Cursor("orgs", page[^1].CreatedAt.ToString(CultureInfo.InvariantCulture), page[^1].Id) : null);
                return Results.Ok(page.Select(o => new OrgListItem(o.Id, o.Name, DateTimeOffset.FromUnixTimeMilliseconds(o.CreatedAt), o.IsOperator == 1)));
            })
            .AddEndpointFilter<OperatorFilter>().WithTags("Platform").Produces<List<OrgListItem>>().ProducesProblem(403)
            .WithSummary("Every org, oldest first; limit (1-200, default 50), cursor from Link rel=\"next\" (operator)");
        v1.MapGet("/platform/settings", (ControlPlaneOptions options) => Results.Ok(PlatformSettingsView.From(options)))
            .AddEndpointFilter<OperatorFilter>().WithTags("Platform").Produces<PlatformSettingsView>().ProducesProblem(403)
            .WithSummary("The platform's effective configuration an operator may see: token lifetimes, lockout, key rotation, credential rate limits, feed transport (operator; read-only)");
    }
}
