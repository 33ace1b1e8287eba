using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Orgs;

internal sealed record OrgView(string Id, string Name,
    [property: JsonPropertyName("access_token_ttl_seconds")] long AccessTokenTtlSeconds,
    [property: JsonPropertyName("idle_timeout_seconds")] long IdleTimeoutSeconds,
    [property: JsonPropertyName("audit_retention_days")] long AuditRetentionDays,
    [property: JsonPropertyName("mfa")] string Mfa);

internal sealed record CreateOrgRequest([property: Required, StringLength(200)] string? Name);

/// <summary>Every field optional: only the fields sent change. Maximums of the two durations come from configuration.</summary>
internal sealed record OrgSettingsRequest(
    [property: JsonPropertyName("access_token_ttl_seconds"), Range(TokenOptions.MinTtlSeconds, long.MaxValue)] long? AccessTokenTtlSeconds = null,
    [property: JsonPropertyName("idle_timeout_seconds"), Range(TokenOptions.MinTtlSeconds, long.MaxValue)] long? IdleTimeoutSeconds = null,
    [property: JsonPropertyName("audit_retention_days"), Range((double)AuditOptions.MinRetentionDays, AuditOptions.MaxRetentionDays)] long? AuditRetentionDays = null,
    [property: JsonPropertyName("mfa"), StringLength(32)] string? Mfa = null);

internal static class OrgEndpoints
{
    public static void MapOrgEndpoints(this RouteGroupBuilder v1)
    {
        var g = v1.MapGroup("").WithTags("Orgs");
        g.MapGet("/org", async (OrgStore orgs, HttpContext http) =>
                await orgs.GetAsync(Caller.Of(http).OrgId, http.RequestAborted) is { } o ? Results.Ok(View(orgs, o)) : Failure.NotFound("Org"))
            .Produces<OrgView>().ProducesProblem(404).WithSummary("The caller's org and its settings");
        g.MapPatch("/org", async (OrgSettingsRequest body, OrgStore orgs, AuditLog audit, Mfa.MfaPolicyCache policies, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                var errors = new Dictionary<string, string[]>();
                // The static bounds are checked before this runs (RequestBounds); these two maximums are configuration.
                if (body.AccessTokenTtlSeconds is { } t && t > orgs.MaxAccessTtlSeconds)
                {
                    errors["access_token_ttl_seconds"] = [$"must be between {TokenOptions.MinTtlSeconds} and {orgs.MaxAccessTtlSeconds}."];
                }

                if (body.IdleTimeoutSeconds is { } i && i > orgs.MaxIdleTimeoutSeconds)
                {
                    errors["idle_timeout_seconds"] = [$"must be between {TokenOptions.MinTtlSeconds} and {orgs.MaxIdleTimeoutSeconds}."];
                }

                if (body.Mfa is not null && !Mfa.MfaPolicy.IsKnown(body.Mfa))
                {
                    errors["mfa"] = [$"must be one of {string.Join(", ", Mfa.MfaPolicy.All)}."];
                }

                if (errors.Count > 0)
                {
                    return Failure.Invalid(errors);
                }

                if (body.Mfa is { } policy)
                {
                    var previous = Mfa.MfaPolicy.Of((await orgs.GetAsync(caller.OrgId, http.RequestAborted))?.MfaPolicy);
                    await orgs.SetMfaPolicyAsync(caller.OrgId, policy, http.RequestAborted);
                    policies.Forget(caller.OrgId);
                    if (previous != policy)
                    {
                        await audit.RecordAsync(new AuditEntry(caller.OrgId, AuditEvents.OrgMfaPolicyChanged)
                        {
                            ActorId = caller.UserId, Ip = caller.Client.Ip, UserAgent = caller.Client.UserAgent,
                            Details = new() { ["mfa"] = policy, ["previous"] = previous },
                        }, http.RequestAborted);
                    }
                }

                await orgs.UpdateSettingsAsync(caller.OrgId, body.AccessTokenTtlSeconds, body.IdleTimeoutSeconds, body.AuditRetentionDays, http.RequestAborted);
                await audit.RecordAsync(new AuditEntry(caller.OrgId, AuditEvents.OrgUpdated)
                {
                    ActorId = caller.UserId, Ip = caller.Client.Ip, UserAgent = caller.Client.UserAgent,
                    Details = new()
                    {
                        ["access_token_ttl_seconds"] = body.AccessTokenTtlSeconds?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["idle_timeout_seconds"] = body.IdleTimeoutSeconds?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["audit_retention_days"] = body.AuditRetentionDays?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    },
                }, http.RequestAborted);
                return Results.Ok(View(orgs, (await orgs.GetAsync(caller.OrgId, http.RequestAborted))!));
            })
            .AddEndpointFilter<AdminFilter>().Produces<OrgView>().WithSummary("Change org settings, the MFA policy among them: \"mfa\": off | optional | required_for_mod | required (mod)");
        // Org ids in the path: a caller's token belongs to one org, so any other org is simply not found.
        g.MapGet("/orgs/{id}/rate-limits", async (string id, OrgRateLimitService limits, HttpContext http) =>
                Caller.Of(http).OrgId == id ? Results.Ok(await limits.GetAsync(id, http.RequestAborted)) : Failure.NotFound("Org"))
            .Produces<OrgRateLimitsView>().WithSummary("The org's rate limit at the edges ('default': null when none)");
        g.MapPut("/orgs/{id}/rate-limits", async (string id, OrgRateLimitsRequest body, OrgRateLimitService limits, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                if (caller.OrgId != id)
                {
                    return Failure.NotFound("Org");
                }

                return (await limits.SetAsync(id, body.Default, caller, http.RequestAborted)).ToResult(Results.Ok);
            })
            .AddEndpointFilter<AdminFilter>()
            .Produces<OrgRateLimitsView>().WithSummary("Set the org's rate limit at the edges, e.g. {\"default\":\"100/1s burst 200 per org\"}; null or empty clears it (mod)");
        // Changes nothing, so any member may ask: the console validates as the admin types with the edge's own parser.
        g.MapPost("/orgs/{id}/rate-limits/validate", (string id, OrgRateLimitsRequest body, HttpContext http) =>
                Caller.Of(http).OrgId == id ? OrgRateLimitService.Validate(id, body.Default).ToResult(Results.Ok) : Failure.NotFound("Org"))
            .Produces<OrgRateLimitsView>().ProducesProblem(400)
            .WithSummary("Check a rate limit with the edges' parser without storing it: 200 with the normalised text, or 400 with the parser's message (any member)");
        g.MapPost("/orgs", async (CreateOrgRequest body, OrgService service, OrgStore orgs, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Trim().Length > 200)
                {
                    return Failure.Invalid("name", "must be 1 to 200 characters.");
                }

                var org = await service.CreateAsync(body.Name.Trim(), caller.UserId, caller.Client, http.RequestAborted);
                return Results.Created($"/v1/org", View(orgs, org));
            })
            // A new org affects the platform, not the caller's org: operators only, unless ControlPlane:Orgs:SelfService
            // lets any org's mod found orgs.
            .AddEndpointFilter(async (ctx, next) =>
            {
                var http = ctx.HttpContext;
                var allowed = http.RequestServices.GetRequiredService<Hosting.ControlPlaneOptions>().Orgs.SelfService
                    ? Caller.Of(http).IsAdmin
                    : await http.RequestServices.GetRequiredService<PlatformOperators>().IsOperatorAsync(Caller.Of(http), http.RequestAborted);
                return allowed ? await next(ctx) : Failure.Forbidden("Only a platform operator may create orgs (ControlPlane:Orgs:SelfService is off).");
            })
            .Produces<OrgView>(201)
            .WithSummary("Create another org with the caller as its mod (operator; any mod with ControlPlane:Orgs:SelfService)");
        v1.MapPlatformEndpoints();
    }

    private static OrgView View(OrgStore orgs, OrgRow o) =>
        new(o.Id, o.Name, (long)orgs.AccessTtl(o).TotalSeconds, (long)orgs.IdleTimeout(o).TotalSeconds, orgs.RetentionDays(o), Mfa.MfaPolicy.Of(o.MfaPolicy));
}
