using Authio.ControlPlane.AdminConsole;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.ApiKeys;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.AuditStreams;
using Authio.ControlPlane.Auth;
using Authio.ControlPlane.DataSubjects;
using Authio.ControlPlane.Diagnostics;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Fleet;
using Authio.ControlPlane.Mfa;
using Authio.ControlPlane.OAuth;
using Authio.ControlPlane.Orgs;
using Authio.ControlPlane.Passkeys;
using Authio.ControlPlane.Passwords;
using Authio.ControlPlane.RateLimiting;
using Authio.ControlPlane.Redis;
using Authio.ControlPlane.Risk;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.SigningKeys;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Teams;
using Authio.ControlPlane.Tokens;
using Authio.ControlPlane.Tracing;
using Authio.ControlPlane.Users;
using Authio.ControlPlane.Webhooks;

namespace Authio.ControlPlane.Hosting;

/// <summary>Builds the control plane in-process, so the real host and the tests run the same wiring.</summary>
/// <remarks>
/// A table of contents: each feature folder registers its services (<c>Add…</c>, in its <c>…Registration.cs</c>) and
/// maps its routes (<c>Map…Endpoints</c>, in its <c>…Endpoints.cs</c>).
/// </remarks>
public static class ControlPlaneApp
{
    /// <summary>Builds the app. <paramref name="overrides"/> runs last (tests swap TimeProvider etc.).</summary>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        var options = OptionsLoader.Load(builder.Configuration);
        builder.Services
            .AddControlPlaneOptions(options)
            .AddStorage(options, builder.Configuration)
            .AddControlPlaneRedis(options)
            .AddSigningKeys(options)
            .AddEdgeSync(options)
            .AddOAuth()
            .AddTokens()
            .AddAudit()
            .AddAuditStreams(options)
            .AddAuth()
            .AddRisk(options)
            .AddMfa()
            .AddPasswords()
            .AddPasskeys(options, builder.Configuration)
            .AddOrgs()
            .AddUsers()
            .AddTeams()
            .AddSessions()
            .AddRateLimiting()
            .AddApiKeys()
            .AddApi()
            .AddAdminConsole()
            .AddMaintenance()
            .AddDiagnostics()
            .AddFleet()
            .AddWebhooks()
            .AddDataSubjects()
            .AddTracing(builder.Configuration);
        overrides?.Invoke(builder.Services);

        var app = builder.Build();
        // First, so it times the whole pipeline and sees the final status (problem answers included).
        app.UseMiddleware<RequestMetricsMiddleware>();
        app.UseProblemAnswers(options);
        app.UseMiddleware<BadRequestMiddleware>();
        app.UseMiddleware<BodyLimitMiddleware>();
        app.UseMiddleware<RateLimitMiddleware>();

        app.MapApiReference();
        app.MapGet("/healthz", () => Results.Text("ok")).ExcludeFromDescription();
        // Every endpoint below checks the bounds its OpenAPI schema publishes before its handler runs.
        var root = app.MapGroup("").AddEndpointFilterFactory(RequestBounds.Filter);
        root.MapWellKnownEndpoints();
        // The admin API, behind a live session's access token (CallerFilter); sign-in and refresh are mapped on root.
        // Then the enrolment gate: a session the org's MFA policy limits to enrolment reaches only the enrolment endpoints.
        var v1 = root.MapGroup("/v1").AddEndpointFilter<CallerFilter>().AddEndpointFilter<MfaEnrollmentGate>();
        root.MapAuthEndpoints(v1);
        root.MapMfaEndpoints(v1);
        root.MapCookieSessionEndpoints();
        v1.MapUserEndpoints();
        v1.MapPasskeyEndpoints();
        v1.MapSessionEndpoints();
        v1.MapTeamEndpoints();
        v1.MapOrgEndpoints();
        v1.MapSigningKeyEndpoints();
        v1.MapPlatformSigningKeyEndpoints();
        v1.MapAuditEndpoints();
        v1.MapApiKeyEndpoints();
        v1.MapFleetEndpoints();
        v1.MapWebhookEndpoints();
        v1.MapDataSubjectEndpoints();
        // Called by edges with an edge:sync key, and the OAuth endpoints: outside the access-token group.
        root.MapEdgeApiKeyEndpoints();
        root.MapEdgeSyncEndpoints();
        root.MapEdgeFleetEndpoints();
        root.MapOAuthEndpoints();
        // The browser console: static files only, it calls the API above like any client.
        app.MapConsole();
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
