using System.Security.Cryptography;
using System.Text.Json;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Keys;
using Microsoft.Extensions.Logging.Abstractions;

namespace Authio.EdgeProxy.Tests.Keys;

/// <summary>The control plane's keys held by org across repeated snapshots (a reset or reconnect sends the whole set again).</summary>
public sealed class OrgKeySetsTests
{
    private static object Jwk(string kid, string org)
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = ec.ExportParameters(false).Q;
        return new
        {
            kty = "EC", crv = "P-256", x = Convert.ToBase64String(q.X!).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
            y = Convert.ToBase64String(q.Y!).TrimEnd('=').Replace('+', '-').Replace('/', '_'), kid, alg = "ES256", use = "sig", org
        };
    }

    private static JsonElement Set(params object[] keys) => JsonSerializer.SerializeToElement(new { keys });

    [Fact]
    public void A_repeat_snapshot_keeps_the_unchanged_orgs_keys_and_replaces_only_what_changed()
    {
        var issuer = new TrustedIssuer(new IssuerOptions { Issuer = "http://cp.test", Audiences = ["authio-api"], JwksUri = "http://cp.test/jwks" });
        var registry = new IssuerRegistry([issuer]);
        var sets = new OrgKeySets(registry, issuer, TimeProvider.System, NullLogger.Instance);
        var a1 = Jwk("k_a1", "org_a");
        var b1 = Jwk("k_b1", "org_b");
        sets.ApplyAll(Set(a1, b1));
        sets.PublishIfChanged();
        var heldA = issuer.Keys!.Keys.Single(k => k.Kid == "k_a1");
        var heldB = issuer.Keys!.Keys.Single(k => k.Kid == "k_b1");

        // Org A unchanged, org B rotated: A's key is the same instance (tokens cached with it stay valid), B's old key retires.
        sets.ApplyAll(Set(a1, Jwk("k_b2", "org_b")));
        sets.PublishIfChanged();
        Assert.Same(heldA, issuer.Keys!.Keys.Single(k => k.Kid == "k_a1"));
        Assert.False(heldA.Retired);
        Assert.True(heldB.Retired);
        Assert.Equal(["k_a1", "k_b2"], issuer.Keys!.Keys.Select(k => k.Kid).Order());

        // A key revoked through the feed leaves; the next snapshot (still listing it, say) vets the org's part again
        // rather than trusting what was held before the revocation.
        sets.Remove("k_a1");
        sets.PublishIfChanged();
        Assert.True(heldA.Retired);
        sets.ApplyAll(Set(a1, Jwk("k_b2", "org_b")));
        sets.PublishIfChanged();
        Assert.Contains(issuer.Keys!.Keys, k => k.Kid == "k_a1" && !k.Retired);
        Assert.Equal(0, registry.Health.RefusedCount);
    }
}
