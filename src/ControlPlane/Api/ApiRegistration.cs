using System.Text.Json.Serialization;

namespace Authio.ControlPlane.Api;

internal static class ApiRegistration
{
    /// <summary>
    /// What every endpoint shares: problem+json answers, strict JSON, named binding failures, the OpenAPI document, and
    /// the admin API's per-request authority check (<see cref="CallerFilter"/>, <see cref="AdminFilter"/>).
    /// </summary>
    public static IServiceCollection AddApi(this IServiceCollection services)
    {
        services.AddProblemDetails();
        // Numbers are numbers: "60" is not an integer (the OpenAPI schemas say "integer", not "integer or string").
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict);
        // Binding failures throw so BadRequestMiddleware can name the field (else they are a bare 400).
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddOpenApi(OpenApiSetup.Configure);
        services.AddSingleton<CallerAuthority>();
        services.AddHostedService<CallerAuthorityPoller>();
        services.AddSingleton<CallerFilter>();
        services.AddSingleton<AdminFilter>();
        return services;
    }
}
