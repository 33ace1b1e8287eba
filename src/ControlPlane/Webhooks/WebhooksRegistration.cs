namespace Authio.ControlPlane.Webhooks;

internal static class WebhooksRegistration
{
    /// <summary>Webhook administration, the outbox written with audit events, and the delivery worker.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<WebhookSignal>();
        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<WebhookAddressPolicy>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookService>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        return services;
    }
}
