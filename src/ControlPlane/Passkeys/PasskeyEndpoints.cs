using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Mfa;

namespace Authio.ControlPlane.Passkeys;

/// <summary>Answer to registration options: the browser's <c>PublicKeyCredential</c> as JSON (base64url binary fields).</summary>
internal sealed record PasskeyRegistrationRequest(
    [property: JsonPropertyName("challenge_id"), Required, StringLength(Bounds.MaxIdLength)] string? ChallengeId,
    [property: JsonPropertyName("name"), StringLength(100)] string? Name,
    [property: JsonPropertyName("attestation"), Required] JsonElement? Attestation);

internal static class PasskeyEndpoints
{
    /// <summary>The caller's own passkeys (any role: a credential is the person's own).</summary>
    public static void MapPasskeyEndpoints(this RouteGroupBuilder v1)
    {
        var g = v1.MapGroup("/users/me/mfa/passkeys").WithTags("Passkeys");
        // A session the org's MFA policy limits to enrolment may list and register passkeys (enrolling is the way out).
        g.MapGet("/", async (PasskeyService passkeys, HttpContext http) =>
                Results.Ok(await passkeys.ListAsync(Caller.Of(http).UserId, http.RequestAborted)))
            .AllowDuringMfaEnrollment().Produces<List<PasskeyView>>().WithSummary("List the caller's passkeys (no key material)");
        g.MapPost("/options", async (PasskeyService passkeys, HttpContext http) =>
                (await passkeys.BeginRegistrationAsync(Caller.Of(http), http.RequestAborted)).ToResult(Results.Ok))
            .AllowDuringMfaEnrollment().Produces<PasskeyOptionsView>().ProducesProblem(409)
            .WithSummary("Start registering a passkey: options for navigator.credentials.create, answerable once within 5 minutes");
        g.MapPost("/", async (PasskeyRegistrationRequest body, PasskeyService passkeys, HttpContext http) =>
                (await passkeys.CompleteRegistrationAsync(Caller.Of(http), body.ChallengeId, body.Name, body.Attestation, http.RequestAborted))
                    .ToResult(p => Results.Created($"/v1/users/me/mfa/passkeys/{p.Id}", p)))
            .AllowDuringMfaEnrollment().Produces<PasskeyView>(201).ProducesProblem(409)
            .WithSummary("Finish registering a passkey with the browser's attestation (codes passkey_invalid, passkey_challenge_invalid)");
        // Removing a second factor is a sensitive action: it needs a recent MFA sign-in, like removing TOTP.
        g.MapDelete("/{id}", async (string id, PasskeyService passkeys, HttpContext http) =>
                await passkeys.RemoveAsync(Caller.Of(http), id, http.RequestAborted) ? Results.NoContent() : Failure.NotFound("Passkey"))
            .RequireStepUp("mfa.passkey_remove", alwaysMfa: true).Produces(204).WithSummary("Remove one of the caller's passkeys");
    }
}
