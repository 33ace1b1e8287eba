using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Tests.Passkeys;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// Hundreds of mutated WebAuthn answers (seeded, so a failure reproduces): registration over HTTP must answer 4xx
/// problem+json or accept a harmless change, never 5xx; assertions must be refused or verified, never throw, and no
/// mutation of signed bytes may ever verify. The process stays up and serves a clean ceremony afterwards.
/// </summary>
public abstract partial class ControlPlaneSuite
{
    private const int FuzzSeed = 20261129;

    [SuiteFact]
    public async Task Malformed_and_mutated_passkey_payloads_are_refused_with_4xx_problem_json_never_a_crash()
    {
        var rng = new Random(FuzzSeed);
        var clock = Stopwatch.StartNew();
        var budget = TimeSpan.FromMinutes(3);
        var (_, email) = await F.CreateUserAsync();
        var tokens = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        // Accepted (harmless) mutations are removed again, which needs a recent MFA sign-in: step up with a clean passkey.
        using var own = new SoftwareAuthenticator(PasskeyOrigin);
        await RegisterPasskeyAsync(tokens.Access, own, "own");
        var raised = await StepUpWithPasskeyAsync(tokens.Access, own);
        var failures = new List<string>();
        var registrations = 0;

        // Every kind of hostile CBOR once (deep nesting, lying lengths, wrong types, statements of other formats), then at random.
        var kinds = PasskeyFuzz.HostileAttestationObjectKinds;
        for (var i = 0; i < kinds + 250 && clock.Elapsed < budget; i++, registrations++)
        {
            var begun = await (await F.SendAsync(HttpMethod.Post, PasskeysPath + "/options", tokens.Access)).BodyAsync(HttpStatusCode.OK);
            using var key = new SoftwareAuthenticator(PasskeyOrigin);
            var (what, attestation) = i < kinds
                ? PasskeyFuzz.WithHostileAttestationObject(rng, key.Register(begun["options"]!), i)
                : PasskeyFuzz.Mutate(rng, key.Register(begun["options"]!));
            var body = new JsonObject { ["challenge_id"] = (string)begun["challenge_id"]!, ["name"] = "fuzz", ["attestation"] = attestation };
            using var request = new HttpRequestMessage(HttpMethod.Post, PasskeysPath)
            {
                Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new("Bearer", tokens.Access);
            using var response = await F.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (status == 201)
            {
                // A change the verification does not depend on (a transport name, an extension output): accepted, removed again.
                var id = (string)JsonNode.Parse(text)!["id"]!;
                Assert.Equal(HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Delete, $"{PasskeysPath}/{id}", raised)).StatusCode);
                continue;
            }

            if (status is < 400 or >= 500 || ProblemOf(response, text) is { } bad)
            {
                failures.Add($"registration #{i} [{what}]: {status} {(text.Length > 300 ? text[..300] : text)}");
            }
        }

        // Assertions through the service the sign-in flows call: a registered credential, its answers mutated.
        var (userId, _, authenticator, _) = await UserWithPasskeyAsync();
        using var owned = authenticator;
        var assertions = 0;
        for (var i = 0; i < 250 && clock.Elapsed < budget; i++, assertions++)
        {
            var bound = rng.Next(2) == 0 ? userId : null;
            var begun = Ok(await Ceremonies.BeginAssertionAsync(bound, default));
            var (what, assertion) = PasskeyFuzz.Mutate(rng, authenticator.Assert(begun.Options));
            var element = assertion is null ? JsonDocument.Parse("null").RootElement : JsonDocument.Parse(assertion.ToJsonString()).RootElement;
            try
            {
                var result = await Ceremonies.CompleteAssertionAsync(begun.ChallengeId, bound, element, default);
                if (result.Error is null && PasskeyFuzz.TouchesSignedBytes(what))
                {
                    failures.Add($"assertion #{i} [{what}]: VERIFIED although signed bytes were changed");
                }
                else if (result.Error is { } error && (error.Status is < 400 or >= 500 || string.IsNullOrEmpty(error.Code)))
                {
                    failures.Add($"assertion #{i} [{what}]: {error.Status} {error.Code}");
                }
            }
            catch (Exception ex)
            {
                failures.Add($"assertion #{i} [{what}]: threw {ex.GetType().Name}: {ex.Message}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {registrations + assertions} mutated payloads misbehaved:\n" + string.Join("\n", failures.Take(40)));
        Assert.True(registrations >= 100 && assertions >= 100, $"too few payloads within the time budget: {registrations} + {assertions}");

        // Still alive and serving: a clean registration and assertion work.
        Assert.Equal(HttpStatusCode.OK, (await F.Http.GetAsync("/healthz")).StatusCode);
        var (cleanUser, _, clean, cleanId) = await UserWithPasskeyAsync();
        using var __ = clean;
        var last = Ok(await Ceremonies.BeginAssertionAsync(cleanUser, default));
        Assert.Equal(cleanId, Ok(await Ceremonies.CompleteAssertionAsync(last.ChallengeId, cleanUser, Element(clean.Assert(last.Options)), default)).CredentialId);
    }
}
