using Authio.ControlPlane.Api;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;

namespace Authio.ControlPlane.Mfa;

/// <summary>Endpoint metadata: reachable by a session limited to MFA enrolment (see <see cref="MfaEnrollmentGate"/>).</summary>
internal sealed record MfaEnrollmentEndpoint;

/// <summary>
/// Sessions limited to enrolment: when the org's policy requires MFA of the caller (by their current org-wide role) and
/// the access token's <c>acr</c> is below <c>urn:authio:acr:mfa</c>, only endpoints marked
/// <see cref="MfaEnrollmentEndpoint"/> answer (enrol and confirm a factor, see MFA status, step up, sign out); every
/// other admin call is 403 <c>mfa_enrollment_required</c>. Stateless: the token says how the user signed in, the policy
/// is the org's; enrolling (or stepping up) raises the session and the next token passes.
/// </summary>
internal sealed class MfaEnrollmentGate(MfaPolicyCache policies) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.GetEndpoint()?.Metadata.GetMetadata<MfaEnrollmentEndpoint>() is null &&
            http.Items[Caller.ItemKey] is Caller caller &&
            AuthenticationLevels.Rank(caller.Acr) < AuthenticationLevels.Rank(AuthenticationLevels.MultiFactor) &&
            MfaPolicy.Requires(await policies.GetAsync(caller.OrgId, http.RequestAborted), caller.Role))
        {
            return MfaFailures.EnrollmentRequired();
        }

        return await next(context);
    }
}

internal static class MfaEnrollmentGateExtensions
{
    /// <summary>Lets a session limited to enrolment reach this endpoint (enrolment, step-up, sign-out).</summary>
    public static TBuilder AllowDuringMfaEnrollment<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new MfaEnrollmentEndpoint());

    /// <summary>The 403 every other admin endpoint can answer while the gate is closed.</summary>
    public static TBuilder DocumentsMfaEnrollmentGate<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.ProducesCodes(403, ErrorCodes.MfaEnrollmentRequired);
}
