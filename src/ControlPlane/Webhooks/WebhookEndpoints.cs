using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Webhooks;

internal sealed record CreateWebhookRequest(
    [property: JsonPropertyName("url"), Required, StringLength(WebhookAddressPolicy.MaxUrlLength)] string? Url,
    [property: JsonPropertyName("events"), MaxLength(WebhookService.MaxEvents), ItemLength(WebhookService.MaxEventLength)] string[]? Events = null,
    [property: JsonPropertyName("enabled")] bool? Enabled = null,
    [property: JsonPropertyName("description"), StringLength(200)] string? Description = null);

/// <summary>Every field optional: only the fields sent change.</summary>
internal sealed record UpdateWebhookRequest(
    [property: JsonPropertyName("url"), StringLength(WebhookAddressPolicy.MaxUrlLength)] string? Url = null,
    [property: JsonPropertyName("events"), MaxLength(WebhookService.MaxEvents), ItemLength(WebhookService.MaxEventLength)] string[]? Events = null,
    [property: JsonPropertyName("enabled")] bool? Enabled = null,
    [property: JsonPropertyName("description"), StringLength(200)] string? Description = null);

internal sealed record RotateWebhookSecretRequest(
    [property: JsonPropertyName("overlap_seconds"), Range(0, (double)WebhookService.MaxOverlapSeconds)] long? OverlapSeconds = null);

internal static class WebhookEndpoints
{
    private const int DefaultPage = 50;
    private const string DeliveriesList = "webhook-deliveries";

    public static void MapWebhookEndpoints(this RouteGroupBuilder v1)
    {
        // Webhooks carry the org's events (emails, addresses) to a URL of the caller's choice: mods only, reads included.
        var g = v1.MapGroup("/webhooks").WithTags("Webhooks").AddEndpointFilter<AdminFilter>();
        g.MapGet("/", async (WebhookService hooks, HttpContext http) => Results.Ok(await hooks.ListAsync(Caller.Of(http).OrgId, http.RequestAborted)))
            .Produces<List<WebhookView>>().WithSummary("The org's webhooks (mod)");
        g.MapPost("/", async (CreateWebhookRequest body, WebhookService hooks, HttpContext http) =>
                (await hooks.CreateAsync(Caller.Of(http), body.Url, body.Events, body.Enabled, body.Description, http.RequestAborted))
                    .ToResult(w => Results.Created($"/v1/webhooks/{w.Id}", w)))
            .Produces<WebhookView>(201).ProducesProblem(409).ProducesCodes(400, ErrorCodes.ValidationFailed, ErrorCodes.WebhookUrlRefused)
            .WithSummary("Create a webhook: url (https, public address), events (catalog names or \"*\"), enabled; the answer carries the signing secret, shown once (mod)");
        g.MapGet("/{id}", async (string id, WebhookService hooks, HttpContext http) =>
                await hooks.GetAsync(Caller.Of(http).OrgId, id, http.RequestAborted) is { } w ? Results.Ok(w) : Failure.NotFound("Webhook"))
            .Produces<WebhookView>().ProducesProblem(404).WithSummary("A webhook (mod)");
        g.MapPatch("/{id}", async (string id, UpdateWebhookRequest body, WebhookService hooks, HttpContext http) =>
                (await hooks.UpdateAsync(Caller.Of(http), id, body.Url, body.Events, body.Enabled, body.Description, http.RequestAborted)).ToResult(Results.Ok))
            .Produces<WebhookView>().ProducesProblem(404).ProducesCodes(400, ErrorCodes.ValidationFailed, ErrorCodes.WebhookUrlRefused)
            .WithSummary("Change a webhook's url, events, enabled or description (mod)");
        g.MapDelete("/{id}", async (string id, WebhookService hooks, HttpContext http) =>
                await hooks.DeleteAsync(Caller.Of(http), id, http.RequestAborted) ? Results.NoContent() : Failure.NotFound("Webhook"))
            .Produces(204).ProducesProblem(404).WithSummary("Delete a webhook and its pending deliveries (mod)");
        g.MapPost("/{id}/rotate-secret", async (string id, RotateWebhookSecretRequest? body, WebhookService hooks, HttpContext http) =>
                (await hooks.RotateSecretAsync(Caller.Of(http), id, body?.OverlapSeconds, http.RequestAborted)).ToResult(Results.Ok))
            .Produces<WebhookView>().ProducesProblem(404)
            .WithSummary("New signing secret, shown once; the old one keeps signing beside it for overlap_seconds (0-604800, default 86400) (mod)");
        g.MapGet("/{id}/deliveries", async Task<IResult> (string id, [Range(1, Paging.MaxLimit)] int? limit,
                [StringLength(Paging.MaxCursorLength)] string? cursor, WebhookService hooks, HttpContext http) =>
            {
                long? before = null;
                if (cursor is not null)
                {
                    if (Paging.Keys(cursor, DeliveriesList, 1) is not [var seq] || !Paging.TryLong(seq, out var s))
                    {
                        return Failure.Invalid("cursor", Paging.BadCursor);
                    }

                    before = s;
                }

                var take = limit ?? DefaultPage;
                if (await hooks.DeliveriesAsync(Caller.Of(http).OrgId, id, before, take + 1, http.RequestAborted) is not { } rows)
                {
                    return Failure.NotFound("Webhook");
                }

                var page = rows.Take(take).ToList();
                Paging.Next(http, rows.Count > take ? Paging.Cursor(DeliveriesList, page[^1].Seq.ToString(CultureInfo.InvariantCulture)) : null);
                return Results.Ok(page.Select(WebhookService.DeliveryView));
            })
            .Produces<List<WebhookDeliveryView>>().ProducesProblem(404)
            .WithSummary("The webhook's delivery log, newest first: state, attempts, last status and response time; limit (1-200, default 50), cursor from Link rel=\"next\" (mod)");
        g.MapPost("/{id}/deliveries/{deliveryId}/redeliver", async (string id, string deliveryId, WebhookService hooks, HttpContext http) =>
                (await hooks.RedeliverAsync(Caller.Of(http), id, deliveryId, http.RequestAborted)).ToResult(d => Results.Accepted($"/v1/webhooks/{id}/deliveries", d)))
            .Produces<WebhookDeliveryView>(202).ProducesProblem(404)
            .WithSummary("Send a delivery's event again (same event id and body) as a new delivery (mod)");
    }
}
