using Authio.ControlPlane.Api;
using Authio.ControlPlane.Mfa;
using Authio.Shared.ApiKeys;

namespace Authio.ControlPlane.ApiKeys;

/// <summary>Authenticates the edge endpoints: <c>Authorization: Bearer sk_…</c> of a valid key with <c>edge:sync</c>.</summary>
internal sealed class EdgeKeyFilter(ApiKeyLookupService keys) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers.Authorization.Count == 1 ? http.Request.Headers.Authorization.ToString() : null;
        var result = await keys.AuthenticateEdgeAsync(header, ClientInfo.From(http), http.RequestAborted);
        if (result.Error is not null)
        {
            return result.Error;
        }

        http.Items[EdgeCaller.ItemKey] = result.Value;
        return await next(context);
    }
}

internal static class ApiKeyEndpoints
{
    public static void MapApiKeyEndpoints(this RouteGroupBuilder v1)
    {
        var scopes = v1.MapGroup("/api-key-scopes").WithTags("API keys");
        scopes.MapGet("/", async (ApiKeyScopes s, HttpContext http) => Results.Ok(await s.ListAsync(Caller.Of(http), http.RequestAborted)))
            .Produces<List<ApiKeyScopeView>>().WithSummary("Scopes that can be put on API keys: built-in and the org's own; grantable = the caller may put it on a key");
        scopes.MapPost("/", async (CreateScopeRequest body, ApiKeyScopes s, HttpContext http) =>
                (await s.CreateAsync(Caller.Of(http), body.Name, body.Description, http.RequestAborted))
                    .ToResult(v => Results.Created("/v1/api-key-scopes", v)))
            .AddEndpointFilter<AdminFilter>().Produces<ApiKeyScopeView>(201).ProducesProblem(409).WithSummary("Add an org-specific scope, e.g. read:invoices (mod)");

        var g = v1.MapGroup("/api-keys").WithTags("API keys");
        g.MapPost("/", async (CreateApiKeyRequest body, ApiKeyAdminService keys, HttpContext http) =>
            {
                http.Response.Headers.CacheControl = "no-store";
                return (await keys.CreateAsync(Caller.Of(http), body, http.RequestAborted)).ToResult(k => Results.Created($"/v1/api-keys/{k.Id}", k));
            })
            .RequireStepUp("api_key.create", when: StepUpEndpoints.CreatesPowerfulApiKey)
            .Produces<ApiKeyIssued>(201).WithSummary("Create an API key with scopes the caller holds; the secret is in this response only (admin or edge:sync: needs a recent sign-in)");
        g.MapGet("/", async (ApiKeyAdminService keys, HttpContext http) => Results.Ok(await keys.ListAsync(Caller.Of(http).OrgId, http.RequestAborted)))
            .Produces<List<ApiKeyView>>().WithSummary("The org's API keys (never the secret)");
        g.MapGet("/{id}", async (string id, ApiKeyAdminService keys, HttpContext http) =>
                await keys.GetAsync(Caller.Of(http).OrgId, id, http.RequestAborted) is { } k ? Results.Ok(k) : Failure.NotFound("API key"))
            .Produces<ApiKeyView>().WithSummary("One API key (never the secret)");
        g.MapDelete("/{id}", async (string id, ApiKeyAdminService keys, HttpContext http) =>
                (await keys.RevokeAsync(Caller.Of(http), id, http.RequestAborted)).ToResult(_ => Results.NoContent()))
            .Produces(204).WithSummary("Revoke a key: every secret of it stops working (creator or mod)");
        g.MapPost("/{id}/rotate", async (string id, RotateApiKeyRequest? body, ApiKeyAdminService keys, HttpContext http) =>
            {
                http.Response.Headers.CacheControl = "no-store";
                return (await keys.RotateAsync(Caller.Of(http), id, body?.GracePeriodSeconds, http.RequestAborted))
                    .ToResult(k => Results.Created($"/v1/api-keys/{k.Id}", k));
            })
            .Produces<ApiKeyIssued>(201).ProducesProblem(409).WithSummary("Issue a new secret for the key; the old one stays valid for grace_period_seconds (default 0, max 7 days) (creator or mod)");
    }

    /// <summary>Called by edges with their own <c>edge:sync</c> key; outside the access-token-authenticated <c>/v1</c> group.</summary>
    public static void MapEdgeApiKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var edge = app.MapGroup("").WithTags("Edge").AddEndpointFilter<EdgeKeyFilter>();
        edge.MapPost(EdgeApiKeyPaths.Lookup, async (ApiKeyLookupRequest body, ApiKeyLookupService keys, HttpContext http) =>
            {
                if (!ApiKeyStore.IsDigest(body.Digest))
                {
                    return Failure.Invalid("digest", "must be the SHA-256 of the key, base64url without padding (43 characters).");
                }

                var record = await keys.LookupAsync(EdgeCaller.Of(http), body.Digest, ClientInfo.From(http), http.RequestAborted);
                return record is null ? Failure.NotFound("API key") : Results.Ok(record);
            })
            .Produces<ApiKeyRecord>().ProducesProblem(404).WithSummary("Find the key with a digest, including revoked and expired ones (edge:sync key)");
        edge.MapPost(EdgeApiKeyPaths.Usage, async (ApiKeyUsageReport body, ApiKeyLookupService keys, HttpContext http) =>
            {
                if (body.Keys is null)
                {
                    return Failure.Invalid("keys", "is required.");
                }

                if (body.Keys.Count > ApiKeyLookupService.MaxUsageEntries)
                {
                    return Failure.Invalid("keys", $"must list at most {ApiKeyLookupService.MaxUsageEntries} keys.");
                }

                if (body.Keys.Any(k => k is null || string.IsNullOrEmpty(k.Id) || k.Count < 0))
                {
                    return Failure.Invalid("keys", "every entry needs an id and a count of at least 0.");
                }

                await keys.ReportUsageAsync(body.Keys, http.RequestAborted);
                return Results.NoContent();
            })
            .Produces(204).WithSummary("Add per-key use counts and last use; unknown ids are ignored (edge:sync key)");
    }
}
