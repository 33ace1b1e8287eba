using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.Orgs;

internal sealed record OrgView(string Id, string Name,
    [property: JsonPropertyName("access_token_ttl_seconds")] long AccessTokenTtlSeconds,
    [property: JsonPropertyName("idle_timeout_seconds")] long IdleTimeoutSeconds,
    [property: JsonPropertyName("audit_retention_days")] long AuditRetentionDays);

internal sealed record CreateOrgRequest(string? Name);

internal sealed record OrgSettingsRequest(
    [property: JsonPropertyName("access_token_ttl_seconds")] long? AccessTokenTtlSeconds,
    [property: JsonPropertyName("idle_timeout_seconds")] long? IdleTimeoutSeconds,
    [property: JsonPropertyName("audit_retention_days")] long? AuditRetentionDays);

internal static class OrgEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        var g = v1.MapGroup("").WithTags("Orgs");
        g.MapGet("/org", async (OrgStore orgs, HttpContext http) =>
                await orgs.GetAsync(Caller.Of(http).OrgId, http.RequestAborted) is { } o ? Results.Ok(View(orgs, o)) : Problems.NotFound("Org"))
            .WithSummary("The caller's org and its settings");
        g.MapPatch("/org", async (OrgSettingsRequest body, OrgStore orgs, AuditLog audit, Hosting.ControlPlaneOptions options, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                var errors = new Dictionary<string, string[]>();
                var max = (long)options.Tokens.MaxAccessTokenTtl.TotalSeconds;
                if (body.AccessTokenTtlSeconds is { } t && (t < 60 || t > max)) errors["access_token_ttl_seconds"] = [$"must be between 60 and {max}."];
                if (body.IdleTimeoutSeconds is { } i && i < 60) errors["idle_timeout_seconds"] = ["must be at least 60."];
                if (body.AuditRetentionDays is { } d && d < 1) errors["audit_retention_days"] = ["must be at least 1."];
                if (errors.Count > 0) return Problems.Validation(errors);
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
            .AddEndpointFilter<AdminFilter>().WithSummary("Change org settings (mod)");
        // Org ids in the path: a caller's token belongs to one org, so any other org is simply not found.
        g.MapGet("/orgs/{id}/rate-limits", async (string id, OrgRateLimitService limits, HttpContext http) =>
                Caller.Of(http).OrgId == id ? Results.Ok(await limits.GetAsync(id, http.RequestAborted)) : Problems.NotFound("Org"))
            .WithSummary("The org's rate limit at the edges ('default': null when none)");
        g.MapPut("/orgs/{id}/rate-limits", async (string id, OrgRateLimitsRequest body, OrgRateLimitService limits, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                if (caller.OrgId != id) return Problems.NotFound("Org");
                return (await limits.SetAsync(id, body.Default, caller, http.RequestAborted)).ToResult(Results.Ok);
            })
            .AddEndpointFilter<AdminFilter>()
            .WithSummary("Set the org's rate limit at the edges, e.g. {\"default\":\"100/1s burst 200 per org\"}; null or empty clears it (mod)");
        g.MapPost("/orgs", async (CreateOrgRequest body, OrgService service, OrgStore orgs, HttpContext http) =>
            {
                var caller = Caller.Of(http);
                if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Trim().Length > 200) return Problems.Validation("name", "must be 1 to 200 characters.");
                var org = await service.CreateAsync(body.Name.Trim(), caller.UserId, caller.Client, http.RequestAborted);
                return Results.Created($"/v1/org", View(orgs, org));
            })
            .AddEndpointFilter<AdminFilter>().WithSummary("Create another org with the caller as its mod (mod)");
    }

    private static OrgView View(OrgStore orgs, OrgRow o) =>
        new(o.Id, o.Name, (long)orgs.AccessTtl(o).TotalSeconds, (long)orgs.IdleTimeout(o).TotalSeconds, orgs.RetentionDays(o));
}

/// <summary>Creating orgs (bootstrap and <c>POST /v1/orgs</c>); the creator becomes the new org's <c>mod</c>.</summary>
internal sealed class OrgService(Db db, AuditLog audit, SigningKeys.SigningKeyStore keys, TimeProvider time)
{
    public async Task<OrgRow> CreateAsync(string name, string creatorUserId, ClientInfo client, CancellationToken ct, UserRow? newUser = null)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var org = new OrgRow { Id = Ids.New("org"), Name = name, CreatedAt = now };
        await db.InOrgAsync(org.Id, async (c, tx) =>
        {
            await OrgStore.InsertAsync(c, tx, org);
            if (newUser is not null) await UserStore.InsertAsync(c, tx, newUser);
            await UserStore.InsertMembershipAsync(c, tx, org.Id, creatorUserId, Roles.Mod, now);
            return 0;
        }, ct);
        await audit.RecordAsync(new AuditEntry(org.Id, AuditEvents.OrgCreated)
        {
            ActorId = creatorUserId, Ip = client.Ip, UserAgent = client.UserAgent, Details = new() { ["name"] = name },
        }, ct);
        if (newUser is not null)
            await audit.RecordAsync(new AuditEntry(org.Id, AuditEvents.UserCreated) { UserId = newUser.Id, Email = newUser.Email, Details = new() { ["role"] = Roles.Mod, ["via"] = "bootstrap" } }, ct);
        await audit.RecordAsync(new AuditEntry(org.Id, AuditEvents.RoleAssigned)
        {
            ActorId = creatorUserId, UserId = creatorUserId, Details = new() { ["role"] = Roles.Mod, ["project_id"] = null },
        }, ct);
        // The org's own key ring starts with it, so its first tokens are signed by a key edges already know.
        await keys.EnsureSignerAsync(org.Id, creatorUserId, ct);
        return org;
    }
}
