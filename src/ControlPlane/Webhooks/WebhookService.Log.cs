using Authio.ControlPlane.Hosting;

namespace Authio.ControlPlane.Webhooks;

internal sealed partial class WebhookService
{
    [LoggerMessage(EventId = LogEvents.WebhookChanged, Level = LogLevel.Information, Message = "Webhook {WebhookId} of org {OrgId} {Change}")]
    private partial void LogChanged(string orgId, string webhookId, string change);
}
