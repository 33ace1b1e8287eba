using System.Globalization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.ApiKeys;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Hosting;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;

namespace Authio.ControlPlane.Mfa;

/// <summary>
/// The control plane's sensitive actions need a recent sign-in (<c>auth_time</c> within
/// <c>ControlPlane:StepUp:MaxAgeSeconds</c>) and, when the org's policy requires MFA of the caller (or the action always
/// does: removing a factor), an <c>acr</c> of at least <c>urn:authio:acr:mfa</c>. Otherwise: RFC 9470's 401 challenge.
/// Only access tokens reach these actions (API keys never authenticate the admin API), so no API key can satisfy them.
/// </summary>
internal sealed partial class StepUp(MfaPolicyCache policies, AuditLog audit, ControlPlaneOptions options, TimeProvider time, ILogger<StepUp> logger)
{
    public int MaxAgeSeconds => options.StepUp.MaxAgeSeconds;

    /// <summary>Null when the caller's sign-in is recent and strong enough; else the challenge (audited).</summary>
    public async ValueTask<Failure?> CheckAsync(Caller caller, bool alwaysMfa, string action, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var tooOld = caller.AuthTime is not { } at || now - at > MaxAgeSeconds;
        var needMfa = alwaysMfa || MfaPolicy.Requires(await policies.GetAsync(caller.OrgId, ct), caller.Role);
        var tooWeak = needMfa && AuthenticationLevels.Rank(caller.Acr) < AuthenticationLevels.Rank(AuthenticationLevels.MultiFactor);
        if (!tooOld && !tooWeak)
        {
            return null;
        }

        Log.Required(logger, caller.OrgId, caller.UserId, action);
        await audit.RecordAsync(new AuditEntry(caller.OrgId, AuditEvents.StepUpRequired, "failure")
        {
            ActorId = caller.UserId, UserId = caller.UserId, SessionId = caller.SessionId, Ip = caller.Client.Ip, UserAgent = caller.Client.UserAgent,
            Details = new() { ["action"] = action, ["too_old"] = tooOld ? "true" : "false", ["too_weak"] = tooWeak ? "true" : "false" },
        }, ct);
        return Challenge(tooOld ? MaxAgeSeconds : null, tooWeak ? AuthenticationLevels.MultiFactor : null);
    }

    /// <summary>RFC 9470: 401, <c>WWW-Authenticate: Bearer error="insufficient_user_authentication"</c> with <c>max_age</c> and/or <c>acr_values</c>.</summary>
    public static Failure Challenge(int? maxAge, string? acr)
    {
        var message = (maxAge, acr) switch
        {
            (not null, not null) => $"This action needs a sign-in within the last {maxAge} seconds with multi-factor authentication: step up (POST /v1/auth/step-up) or sign in again.",
            (not null, null) => $"This action needs a sign-in within the last {maxAge} seconds: step up (POST /v1/auth/step-up) or sign in again.",
            _ => "This action needs multi-factor authentication: step up (POST /v1/auth/step-up) with a second factor.",
        };
        var header = $"Bearer error=\"insufficient_user_authentication\", error_description=\"{message}\"";
        if (maxAge is { } m)
        {
            header += ", max_age=" + m.ToString(CultureInfo.InvariantCulture);
        }

        if (acr is not null)
        {
            header += $", acr_values=\"{acr}\"";
        }

        return new Failure(401, ErrorCodes.StepUpRequired, "Step-up required", message) { WwwAuthenticate = header };
    }
}

/// <summary>Endpoint filter for a sensitive action (see <see cref="StepUp"/>); <c>When</c> narrows it to some requests.</summary>
internal sealed class StepUpFilter(string action, bool alwaysMfa, Func<EndpointFilterInvocationContext, bool>? when) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (when is null || when(context))
        {
            var http = context.HttpContext;
            var refusal = await http.RequestServices.GetRequiredService<StepUp>().CheckAsync(Caller.Of(http), alwaysMfa, action, http.RequestAborted);
            if (refusal is not null)
            {
                return refusal;
            }
        }
        return await next(context);
    }
}

internal static class StepUpEndpoints
{
    /// <summary>
    /// Marks a sensitive action: a recent sign-in (and MFA when the org requires it of the caller, or always with
    /// <paramref name="alwaysMfa"/>). Must sit behind the caller filter.
    /// </summary>
    public static TBuilder RequireStepUp<TBuilder>(this TBuilder builder, string action, bool alwaysMfa = false,
        Func<EndpointFilterInvocationContext, bool>? when = null) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(new StepUpFilter(action, alwaysMfa, when)).ProducesCodes(401, ErrorCodes.StepUpRequired);

    /// <summary>API keys carrying <c>admin</c> or <c>edge:sync</c>: their creation is sensitive, other keys' is not.</summary>
    public static bool CreatesPowerfulApiKey(EndpointFilterInvocationContext context) =>
        context.Arguments.OfType<CreateApiKeyRequest>().Any(r => r.Scopes?.Any(s => s is Users.Roles.AdminScope or Shared.ApiKeys.EdgeApiKeyPaths.EdgeSyncScope) == true);
}
