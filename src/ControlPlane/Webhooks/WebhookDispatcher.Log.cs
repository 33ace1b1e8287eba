using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Webhooks;

internal sealed partial class WebhookDispatcher
{
    [LoggerMessage(EventId = LogEvents.WebhookDeliveryFailed, Level = LogLevel.Information,
        Message = "Webhook {WebhookId}: delivery {DeliveryId} attempt {Attempt} failed ({Reason}); retrying later")]
    private partial void LogFailed(string webhookId, string deliveryId, long attempt, string reason);

    [LoggerMessage(EventId = LogEvents.WebhookDeliveryDead, Level = LogLevel.Warning,
        Message = "Webhook {WebhookId}: delivery {DeliveryId} dead-lettered after {Attempts} attempts; redeliver it by hand once the endpoint works")]
    private partial void LogDead(string webhookId, string deliveryId, long attempts);

    [LoggerMessage(EventId = LogEvents.WebhookCircuitOpened, Level = LogLevel.Warning,
        Message = "Webhook {WebhookId}: {Failures} consecutive failures, holding its deliveries for {CooldownSeconds} s")]
    private partial void LogCircuitOpened(string webhookId, int failures, long cooldownSeconds);

    [LoggerMessage(EventId = LogEvents.WebhookRoundFailed, Level = LogLevel.Error, Message = "Webhook delivery round failed; the next round retries")]
    private partial void LogRoundFailed(Exception error);
}
