using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.SigningKeys;
using Authio.ControlPlane.Storage;
using Authio.Shared.Errors;
using Authio.Shared.Webhooks;

namespace Authio.ControlPlane.Webhooks;

internal sealed record WebhookView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("events")] string[] Events,
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("previous_secret_valid_until")] DateTimeOffset? PreviousSecretValidUntil)
{
    /// <summary>Only in the answers to creation and rotation: the signing secret, shown once.</summary>
    [JsonPropertyName("secret"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Secret { get; init; }
}

internal sealed record WebhookDeliveryView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("event_id")] string EventId,
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("attempts")] long Attempts,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("next_attempt_at")] DateTimeOffset? NextAttemptAt,
    [property: JsonPropertyName("last_attempt_at")] DateTimeOffset? LastAttemptAt,
    [property: JsonPropertyName("last_status")] long? LastStatus,
    [property: JsonPropertyName("last_response_ms")] long? LastResponseMs,
    [property: JsonPropertyName("last_error")] string? LastError,
    [property: JsonPropertyName("delivered_at")] DateTimeOffset? DeliveredAt);

/// <summary>How a webhook's signing secret is sealed at rest: by the master key, bound to the org and webhook.</summary>
internal static class WebhookSecrets
{
    public static string Context(string orgId, string webhookId) => "authio-webhook-secret:" + orgId + ":" + webhookId;
}

/// <summary>
/// The rules of <c>/v1/webhooks</c>: an org's mods manage its webhooks; URLs pass <see cref="WebhookAddressPolicy"/>
/// (400 <c>webhook_url_refused</c>); event filters name catalog events or <c>*</c>; the secret is returned once, at
/// creation and rotation (the old one keeps signing for the overlap). Every change is audited.
/// </summary>
internal sealed partial class WebhookService(
    Db db, WebhookStore store, WebhookAddressPolicy policy, KeySealer sealer, AuditLog audit, WebhookSignal signal, ControlPlaneOptions options,
    TimeProvider time, ILogger<WebhookService> logger)
{
    public const int MaxEvents = 64;
    public const int MaxEventLength = 64;
    public const long MaxOverlapSeconds = 7 * 86_400;
    public const long DefaultOverlapSeconds = 86_400;

    public async Task<List<WebhookView>> ListAsync(string orgId, CancellationToken ct) =>
        (await store.ListAsync(orgId, ct)).Select(View).ToList();

    public async Task<WebhookView?> GetAsync(string orgId, string id, CancellationToken ct) =>
        await store.GetAsync(orgId, id, ct) is { } row ? View(row) : null;

    public async Task<Result<WebhookView>> CreateAsync(Caller caller, string? url, string[]? events, bool? enabled, string? description, CancellationToken ct)
    {
        if (EventsError(events ?? [WebhookEvents.All]) is { } badEvents)
        {
            return badEvents;
        }

        if (await UrlErrorAsync(url, ct) is { } badUrl)
        {
            return badUrl;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var id = Ids.New("whk");
        var secret = WebhookSignature.NewSecret();
        var row = new WebhookRow
        {
            OrgId = caller.OrgId, Id = id, Url = url!, Events = JsonSerializer.Serialize(Normalize(events ?? [WebhookEvents.All])),
            Enabled = enabled is false ? 0 : 1, Description = description, CreatedBy = caller.UserId, CreatedAt = now, UpdatedAt = now,
            SealedSecret = sealer.Seal(WebhookSecrets.Context(caller.OrgId, id), Encoding.UTF8.GetBytes(secret)),
        };
        var created = await db.InOrgAsync(caller.OrgId, async (c, tx) =>
        {
            if (await WebhookStore.CountAsync(c, tx, caller.OrgId) >= options.Webhooks.MaxPerOrg)
            {
                return false;
            }

            await WebhookStore.InsertAsync(c, tx, row);
            return true;
        }, ct);
        if (!created)
        {
            return Failure.Conflict($"An org may have at most {options.Webhooks.MaxPerOrg} webhooks.");
        }

        await RecordAsync(caller, AuditEvents.WebhookCreated, row, ct);
        LogChanged(caller.OrgId, id, "created");
        return View(row) with { Secret = secret };
    }

    public async Task<Result<WebhookView>> UpdateAsync(Caller caller, string id, string? url, string[]? events, bool? enabled, string? description,
        CancellationToken ct)
    {
        if (await store.GetAsync(caller.OrgId, id, ct) is not { } row)
        {
            return Failure.NotFound("Webhook");
        }

        if (events is not null && EventsError(events) is { } badEvents)
        {
            return badEvents;
        }

        if (url is not null && await UrlErrorAsync(url, ct) is { } badUrl)
        {
            return badUrl;
        }

        row.Url = url ?? row.Url;
        row.Events = events is null ? row.Events : JsonSerializer.Serialize(Normalize(events));
        row.Enabled = enabled switch { true => 1, false => 0, null => row.Enabled };
        row.Description = description ?? row.Description;
        row.UpdatedAt = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (!await store.UpdateAsync(row, ct))
        {
            return Failure.NotFound("Webhook");
        }

        await RecordAsync(caller, AuditEvents.WebhookUpdated, row, ct);
        LogChanged(caller.OrgId, id, "updated");
        signal.Wake();
        return View(row);
    }

    public async Task<bool> DeleteAsync(Caller caller, string id, CancellationToken ct)
    {
        if (await store.GetAsync(caller.OrgId, id, ct) is not { } row || !await store.DeleteAsync(caller.OrgId, id, ct))
        {
            return false;
        }

        await RecordAsync(caller, AuditEvents.WebhookDeleted, row, ct);
        LogChanged(caller.OrgId, id, "deleted");
        return true;
    }

    /// <summary>A new secret; the current one keeps signing (beside it) for <paramref name="overlapSeconds"/>.</summary>
    public async Task<Result<WebhookView>> RotateSecretAsync(Caller caller, string id, long? overlapSeconds, CancellationToken ct)
    {
        if (await store.GetAsync(caller.OrgId, id, ct) is not { } row)
        {
            return Failure.NotFound("Webhook");
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var overlap = overlapSeconds ?? DefaultOverlapSeconds;
        var secret = WebhookSignature.NewSecret();
        row.SealedPreviousSecret = overlap > 0 ? row.SealedSecret : null;
        row.PreviousValidUntil = overlap > 0 ? now + overlap * 1000 : null;
        row.SealedSecret = sealer.Seal(WebhookSecrets.Context(caller.OrgId, id), Encoding.UTF8.GetBytes(secret));
        row.UpdatedAt = now;
        if (!await store.SetSecretsAsync(caller.OrgId, id, row.SealedSecret, row.SealedPreviousSecret, row.PreviousValidUntil, now, ct))
        {
            return Failure.NotFound("Webhook");
        }

        await RecordAsync(caller, AuditEvents.WebhookSecretRotated, row, ct, ("overlap_seconds", overlap.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        LogChanged(caller.OrgId, id, "secret rotated");
        return View(row) with { Secret = secret };
    }

    public async Task<List<WebhookDeliveryRow>?> DeliveriesAsync(string orgId, string id, long? beforeSeq, int take, CancellationToken ct) =>
        await store.GetAsync(orgId, id, ct) is null ? null : await store.DeliveriesAsync(orgId, id, beforeSeq, take, ct);

    /// <summary>Queues the delivery's event again, as a new delivery with the same event id and body (any state).</summary>
    public async Task<Result<WebhookDeliveryView>> RedeliverAsync(Caller caller, string id, string deliveryId, CancellationToken ct)
    {
        if (await store.DeliveryAsync(caller.OrgId, id, deliveryId, ct) is not { } original)
        {
            return Failure.NotFound("Delivery");
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var again = new WebhookDeliveryRow
        {
            OrgId = caller.OrgId, Id = Ids.New("whd"), WebhookId = id, EventId = original.EventId, Event = original.Event,
            Payload = original.Payload, CreatedAt = now, NextAttemptAt = now,
        };
        await store.InsertDeliveryAsync(again, ct);
        signal.Wake();
        return DeliveryView(again);
    }

    public static WebhookDeliveryView DeliveryView(WebhookDeliveryRow r) => new(r.Id, r.EventId, r.Event, r.State, r.Attempts,
        At(r.CreatedAt)!.Value, r.State == WebhookDeliveryStates.Pending ? At(r.NextAttemptAt) : null, At(r.LastAttemptAt), r.LastStatus,
        r.LastDurationMs, r.LastError, At(r.DeliveredAt));

    private async Task<Failure?> UrlErrorAsync(string? url, CancellationToken ct)
    {
        var problem = policy.CheckForm(url, out var uri) ?? await policy.CheckResolvedAsync(uri!, ct);
        return problem is null ? null : new Failure(400, ErrorCodes.WebhookUrlRefused, "Webhook URL refused", "url " + problem);
    }

    private static Failure? EventsError(string[] events)
    {
        if (events.Length == 0)
        {
            return Failure.Invalid("events", "must name at least one event, or \"*\".");
        }

        var unknown = events.Where(e => e != WebhookEvents.All && !WebhookEvents.Catalog.Contains(e)).ToList();
        return unknown.Count == 0 ? null
            : Failure.Invalid("events", "unknown events: " + string.Join(", ", unknown.Take(5)) + ". See the event catalog.");
    }

    private static string[] Normalize(string[] events) =>
        events.Contains(WebhookEvents.All) ? [WebhookEvents.All] : events.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    private static WebhookView View(WebhookRow r) => new(r.Id, r.Url, WebhookEvents.Parse(r.Events), r.Enabled == 1, r.Description,
        At(r.CreatedAt)!.Value, At(r.UpdatedAt)!.Value, r.SealedPreviousSecret is null ? null : At(r.PreviousValidUntil));

    private static DateTimeOffset? At(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;

    private Task RecordAsync(Caller caller, string ev, WebhookRow row, CancellationToken ct, params (string Key, string Value)[] extra)
    {
        var details = new Dictionary<string, string?> { ["webhook_id"] = row.Id, ["url"] = row.Url, ["events"] = row.Events, ["enabled"] = row.Enabled == 1 ? "true" : "false" };
        foreach (var (key, value) in extra)
        {
            details[key] = value;
        }

        return audit.RecordAsync(new AuditEntry(caller.OrgId, ev)
        {
            ActorId = caller.UserId, Ip = caller.Client.Ip, UserAgent = caller.Client.UserAgent, Details = details,
        }, ct);
    }
}
