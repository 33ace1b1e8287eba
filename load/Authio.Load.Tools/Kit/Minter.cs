using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Authio.Load.Tools.Kit;

/// <summary>
/// <c>mint --count N --kind jwt|api-key|expired|forged</c>: credentials for load scenarios, one per line on stdout.
/// <list type="bullet">
/// <item><c>jwt</c>: distinct valid ES256 access tokens signed with <c>--key DIR</c> (from <c>keygen</c>; the edge trusts
/// it through <c>DIR/jwks.json</c> as <c>Edge:Issuers:0:JwksUri</c>): <c>typ at+jwt</c>, kid, iss aud sub org sid jti iat nbf exp scope.</item>
/// <item><c>expired</c>: the same, genuinely signed, expired an hour ago (the edge answers 401 <c>token_expired</c>).</item>
/// <item><c>forged</c>: the same claims and the trusted kid, signed with a throwaway key the edge has never seen (401).</item>
/// <item><c>api-key</c>: real keys made at the control plane (<c>--cp URL --email E --password P</c>), printed as
/// <c>id&lt;TAB&gt;secret</c> so a revocation storm can revoke them; without <c>--cp</c>, random keys in the right
/// format and checksum that no control plane knows (401 at an edge).</item>
/// </list>
/// </summary>
internal static class Minter
{
    public static async Task<int> RunAsync(Options o, TextWriter output)
    {
        var count = int.Parse(o.Require("count"), CultureInfo.InvariantCulture);
        var kind = o.Get("kind") ?? (o.Has("expired") ? "expired" : "jwt");
        var text = new StringBuilder();
        switch (kind)
        {
            case "jwt" or "expired" or "forged":
                foreach (var token in Jwts(o.Require("key"), o.Require("issuer"), o.Require("audience"), count, kind, o.Has("bad-signature"), o.Get("scope")))
                {
                    text.Append(token).Append('\n');
                }
                break;
            case "api-key":
                using (var cp = ControlPlaneClient.FromOptions(o))
                {
                    if (cp is null)
                    {
                        for (var i = 0; i < count; i++)
                        {
                            text.Append(Authio.Shared.ApiKeys.ApiKeyFormat.Generate(Authio.Shared.ApiKeys.ApiKeyEnvironment.Live)).Append('\n');
                        }
                        break;
                    }
                    var scopes = (o.Get("scope") ?? "read:applications").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    var prefix = o.Get("name") ?? "load";
                    for (var i = 0; i < count; i++)
                    {
                        var key = await cp.CreateApiKeyAsync($"{prefix}-{i}", scopes);
                        text.Append(key.Id).Append('\t').Append(key.Secret).Append('\n');
                    }
                }
                break;
            default:
                throw new ArgumentException($"--kind {kind}: use jwt, api-key, expired or forged");
        }
        await output.WriteAsync(text);
        return 0;
    }

    /// <summary>A new ES256 key: DIR/key.pem (PKCS#8) and DIR/jwks.json (with a kid), the edge's JwksUri.</summary>
    public static string Keygen(string directory)
    {
        var dir = Directory.CreateDirectory(directory).FullName;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = key.ExportParameters(false);
        var kid = "load-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
        File.WriteAllText(Path.Combine(dir, "key.pem"), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(dir, "jwks.json"), JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "EC", crv = "P-256", use = "sig", alg = "ES256", kid, x = Base64Url.EncodeToString(p.Q.X), y = Base64Url.EncodeToString(p.Q.Y) } },
        }));
        return $"{dir}/key.pem, {dir}/jwks.json (kid {kid})";
    }

    public static IEnumerable<string> Jwts(string keyDir, string issuer, string audience, int count, string kind, bool flipSignatureBit = false, string? scope = null)
    {
        using var trusted = ECDsa.Create();
        trusted.ImportFromPem(File.ReadAllText(Path.Combine(keyDir, "key.pem")));
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signer = kind == "forged" ? forger : trusted;
        using var jwks = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(keyDir, "jwks.json")));
        var kid = jwks.RootElement.GetProperty("keys")[0].GetProperty("kid").GetString()!;
        var now = DateTimeOffset.UtcNow;
        var (iat, exp) = kind == "expired" ? (now.AddHours(-2), now.AddHours(-1)) : (now, now.AddHours(2));
        var header = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new { alg = "ES256", typ = "at+jwt", kid }));
        var tokens = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var payload = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["iss"] = issuer,
                ["aud"] = audience,
                ["sub"] = $"user_{i:D6}",
                ["org"] = "org_acme",
                ["sid"] = $"sess_{i:D6}",
                ["jti"] = Guid.NewGuid().ToString("N"),
                ["iat"] = iat.ToUnixTimeSeconds(),
                ["nbf"] = iat.ToUnixTimeSeconds(),
                ["exp"] = exp.ToUnixTimeSeconds(),
                ["scope"] = scope ?? "read:applications write:applications read:users",
            });
            var signingInput = header + "." + Base64Url.EncodeToString(payload);
            var signature = signer.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            if (flipSignatureBit)
            {
                signature[signature.Length / 2] ^= 0x01;
            }
            tokens.Add(signingInput + "." + Base64Url.EncodeToString(signature));
        }
        return tokens;
    }
}
