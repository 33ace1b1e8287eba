using System.Net;
using System.Text.Json;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Errors;
using Microsoft.Extensions.Time.Testing;
using OtpNet;

namespace Authio.EdgeProxy.Tests.EndToEnd;

/// <summary>
/// Step-up (RFC 9470) end to end: a route that needs a sign-in of at most 5 minutes (<c>Authio.MaxAuthAge: 300</c>) and
/// one that needs MFA (<c>Authio.Acr: mfa</c>), on a real edge following a real control plane whose clock the test
/// moves along with the edge's. A 10-minute-old password sign-in gets the challenge; after a step-up at the control
/// plane (a second factor) the new token passes.
/// </summary>
public abstract class StepUpEndToEndTests(bool postgres) : ControlPlaneAndEdge(withRedis: false, postgres)
{
    private readonly FakeTimeProvider _controlPlaneTime = new(DateTimeOffset.UtcNow) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };

    private protected override TimeProvider? ControlPlaneTime => _controlPlaneTime;

    private protected override void ConfigureEdge(Dictionary<string, string?> config)
    {
        config["ReverseProxy:Routes:recent:ClusterId"] = "up";
        config["ReverseProxy:Routes:recent:Match:Path"] = "/recent/{**rest}";
        config["ReverseProxy:Routes:recent:Metadata:Authio.MaxAuthAge"] = "300";
        config["ReverseProxy:Routes:strong:ClusterId"] = "up";
        config["ReverseProxy:Routes:strong:Match:Path"] = "/strong/{**rest}";
        config["ReverseProxy:Routes:strong:Metadata:Authio.Acr"] = "mfa";
    }

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [StoreFact]
    public async Task A_ten_minute_old_sign_in_gets_the_rfc9470_challenge_at_the_edge_and_passes_after_step_up()
    {
        var password = await Cp.AccessTokenAsync(); // the bootstrap mod, password only

        // A second factor to step up with: TOTP enrolled (confirmed with a code), which yields recovery codes.
        using var enrol = await Cp.SendAsync(HttpMethod.Post, "/v1/users/me/mfa/totp", password);
        var secret = (await BodyAsync(enrol)).GetProperty("secret").GetString()!;
        var code = new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(_controlPlaneTime.GetUtcNow().UtcDateTime);
        using var confirm = await Cp.SendAsync(HttpMethod.Post, "/v1/users/me/mfa/totp/confirm", password, new { code });
        var recoveryCodes = (await BodyAsync(confirm)).GetProperty("recovery_codes").EnumerateArray().Select(c => c.GetString()!).ToList();

        // Fresh: the recent route admits the password sign-in; the MFA route asks for a stronger one.
        using (var fresh = await Edge.GetAsync("/recent/orders", password))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }
        using (var weak = await Edge.GetAsync("/strong/orders", password))
        {
            await ProblemAssert.Is(weak, 401, ErrorCodes.StepUpRequired);
            var challenge = weak.Headers.WwwAuthenticate.ToString();
            Assert.Contains("error=\"insufficient_user_authentication\"", challenge, StringComparison.Ordinal);
            Assert.Contains("acr_values=\"urn:authio:acr:mfa\"", challenge, StringComparison.Ordinal);
        }

        // Ten minutes later, for both clocks: the token is still valid (15-minute lifetime) but its sign-in is too old.
        _controlPlaneTime.Advance(TimeSpan.FromMinutes(10));
        Edge.Time.Advance(TimeSpan.FromMinutes(10));
        var upstreamBefore = Upstream.Received.Count;
        using (var old = await Edge.GetAsync("/recent/orders", password))
        {
            await ProblemAssert.Is(old, 401, ErrorCodes.StepUpRequired);
            var challenge = old.Headers.WwwAuthenticate.ToString();
            Assert.Contains("error=\"insufficient_user_authentication\"", challenge, StringComparison.Ordinal);
            Assert.Contains("max_age=300", challenge, StringComparison.Ordinal);
        }
        Assert.Equal(upstreamBefore, Upstream.Received.Count); // refused at the edge: the upstream saw nothing
        using (var stillFine = await Edge.GetAsync("/api/orders", password))
        {
            Assert.Equal(HttpStatusCode.OK, stillFine.StatusCode); // routes without a step-up rule do not care
        }

        // Step-up at the control plane with a recovery code: a new access token, signed in now, at MFA strength.
        using var stepUp = await Cp.SendAsync(HttpMethod.Post, "/v1/auth/step-up", password, new { method = "recovery_code", code = recoveryCodes[0] });
        var raised = (await BodyAsync(stepUp)).GetProperty("access_token").GetString()!;
        using (var recent = await Edge.GetAsync("/recent/orders", raised))
        {
            Assert.Equal(HttpStatusCode.OK, recent.StatusCode);
        }
        using (var strong = await Edge.GetAsync("/strong/orders", raised))
        {
            Assert.Equal(HttpStatusCode.OK, strong.StatusCode);
        }
        Assert.Equal(upstreamBefore + 3, Upstream.Received.Count);
    }
}

public sealed class StepUpEndToEndSqliteTests() : StepUpEndToEndTests(postgres: false);

public sealed class StepUpEndToEndPostgresTests() : StepUpEndToEndTests(postgres: true);
