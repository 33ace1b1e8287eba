using Authio.ControlPlane.Api;
using Authio.ControlPlane.ApiKeys;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Auth;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.OAuth;
using Authio.ControlPlane.Orgs;
using Authio.ControlPlane.Passwords;
using Authio.ControlPlane.RateLimiting;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.SigningKeys;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Teams;
using Authio.ControlPlane.Tokens;
using Authio.ControlPlane.Users;
using Authio.Shared.Errors;
using Microsoft.AspNetCore.Diagnostics;
using Scalar.AspNetCore;

namespace Authio.ControlPlane.Hosting;

/// <summary>Builds the control plane in-process, so the real host and the tests run the same wiring.</summary>
public static partial class ControlPlaneApp
{
    /// <summary>Builds the app. <paramref name="overrides"/> runs last (tests swap TimeProvider etc.).</summary>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? overrides = null)
    {
        Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;
        var builder = WebApplication.CreateBuilder(args);
        var options = OptionsLoader.Load(builder.Configuration);
        var db = DbFactory.Create(builder.Configuration, options);
        var s = builder.Services;
        s.AddSingleton(options);
        s.AddSingleton(db);
        s.AddSingleton(TimeProvider.System);
        s.AddSingleton(sp => MasterKey.Load(options, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Authio.ControlPlane.SigningKeys.MasterKey")));
        s.AddSingleton<Migrator>();
        s.AddSingleton<KeySealer>();
        s.AddSingleton<EdgeChangeStore>();
        s.AddSingleton<EdgeFeedSigner>();
        if (!string.IsNullOrWhiteSpace(options.Redis))
        {
            s.AddHostedService<RedisChangePublisher>();
        }
        s.AddSingleton<EdgeSyncService>();
        s.AddSingleton<OAuthStore>();
        s.AddSingleton<OAuthTokenService>();
        s.AddSingleton<SigningKeyStore>();
        s.AddSingleton<TokenIssuer>();
        s.AddSingleton<AccessTokenValidator>();
        s.AddSingleton<AuditStore>();
        s.AddSingleton<AuditLog>();
        s.AddSingleton<AuditRetention>();
        s.AddSingleton<AuditSeals>();
        s.AddSingleton<LoginFailures>();
        s.AddSingleton<PasswordHasher>();
        s.AddSingleton<PasswordPolicy>();
        s.AddSingleton<OrgStore>();
        s.AddSingleton<OrgService>();
        s.AddSingleton<OrgRateLimitService>();
        s.AddSingleton<Bootstrap>();
        s.AddSingleton<UserStore>();
        s.AddSingleton<UserService>();
        s.AddSingleton<TeamStore>();
        s.AddSingleton<TeamService>();
        s.AddSingleton<SessionStore>();
        s.AddSingleton<SessionService>();
        s.AddSingleton<AuthRateLimiter>();
        s.AddSingleton<LoginService>();
        s.AddSingleton<ApiKeyScopes>();
        s.AddSingleton<ApiKeyStore>();
        s.AddSingleton<ApiKeyAdminService>();
        s.AddSingleton<ApiKeyLookupService>();
        s.AddSingleton<EdgeKeyFilter>();
        s.AddSingleton<CallerAuthority>();
        s.AddHostedService<CallerAuthorityPoller>();
        s.AddSingleton<CallerFilter>();
        s.AddSingleton<AdminFilter>();
        s.AddSingleton<PlatformOperators>();
        s.AddSingleton<OperatorFilter>();
        s.AddSingleton<MaintenanceService>();
        s.AddHostedService(sp => sp.GetRequiredService<MaintenanceService>());
        s.AddProblemDetails();
        // Numbers are numbers: "60" is not an integer (the OpenAPI schemas say "integer", not "integer or string").
        s.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict);
        // Binding failures throw so BadRequestMiddleware can name the field (else they are a bare 400).
        s.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        s.AddOpenApi(OpenApiSetup.Configure);
        overrides?.Invoke(s);

        var app = builder.Build();
        app.UseExceptionHandler(e => e.Run(async http =>
        {
            var error = http.Features.Get<IExceptionHandlerFeature>()?.Error;
            if (error is Microsoft.AspNetCore.Http.BadHttpRequestException { StatusCode: 413 })
            {
                await Failure.PayloadTooLarge(options.Limits.MaxRequestBodyBytes).ExecuteAsync(http);
                return;
            }
            if (error is Microsoft.AspNetCore.Http.BadHttpRequestException bad)
            {
                await Failure.Invalid("body", "The request body is missing or is not valid JSON.", bad.Message).ExecuteAsync(http);
                return;
            }
            Log.Unhandled(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Authio.ControlPlane"), error);
            await Failure.Internal().ExecuteAsync(http);
        }));
        app.UseStatusCodePages(async ctx =>
        {
            var http = ctx.HttpContext;
            if (http.Response.HasStarted) return;
            switch (http.Response.StatusCode)
            {
                case 404:
                    await Failure.NotFound("Route").ExecuteAsync(http);
                    break;
                case 413:
                    await Failure.PayloadTooLarge(options.Limits.MaxRequestBodyBytes).ExecuteAsync(http);
                    break;
                case 400 or 415:
                    await Failure.Invalid("body", "The request is malformed or its parameters are invalid.").ExecuteAsync(http);
                    break;
            }
        });
        app.UseMiddleware<BadRequestMiddleware>();
        app.UseMiddleware<BodyLimitMiddleware>();
        app.UseMiddleware<RateLimitMiddleware>();

        app.MapOpenApi("/openapi/{documentName}.json");
        // No hosted AI chat ("Ask AI") and no developer toolbar (its "Deploy"/share buttons upload the document to
        // Scalar's registry): the reference talks to this service only. Access tokens are the usual credential.
        app.MapScalarApiReference("/docs", o => o.WithTitle("Authio control plane").DisableAgent().HideDeveloperTools()
            .AddPreferredSecuritySchemes(OpenApiSetup.Scheme));
        app.MapGet("/healthz", () => Results.Text("ok")).ExcludeFromDescription();
        // Every endpoint below checks the bounds its OpenAPI schema publishes before its handler runs.
        var root = app.MapGroup("").AddEndpointFilterFactory(RequestBounds.Filter);
        SigningKeyEndpoints.MapWellKnown(root);

        var v1 = root.MapGroup("/v1").AddEndpointFilter<CallerFilter>();
        AuthEndpoints.Map(root, v1);
        UserEndpoints.Map(v1);
        SessionEndpoints.Map(v1);
        TeamEndpoints.Map(v1);
        OrgEndpoints.Map(v1);
        SigningKeyEndpoints.Map(v1);
        SigningKeyEndpoints.MapPlatform(v1);
        AuditEndpoints.Map(v1);
        ApiKeyEndpoints.Map(v1);
        ApiKeyEndpoints.MapEdge(root);
        EdgeSyncEndpoints.Map(root);
        OAuthEndpoints.Map(root);
        return app;
    }

    /// <summary>Start-up work that must finish before serving: schema, first signing key, bootstrap.</summary>
    public static async Task PrepareAsync(WebApplication app, CancellationToken ct = default)
    {
        var sp = app.Services;
        await sp.GetRequiredService<Migrator>().MigrateAsync(ct);
        await sp.GetRequiredService<Bootstrap>().RunAsync(ct);
        // Every org gets its own key ring (a store from before per-org keys: its global keys retire), and the edge feed
        // learns every org's published keys (no-op when unchanged).
        await sp.GetRequiredService<SigningKeyStore>().PrepareAsync(ct);
        // Needs the org key rings: an upgraded chain's retention gap is recorded as a signed cut.
        await sp.GetRequiredService<AuditSeals>().UpgradeLegacyChainsAsync(ct);
        sp.GetRequiredService<PasswordHasher>().Warm();
    }
}
