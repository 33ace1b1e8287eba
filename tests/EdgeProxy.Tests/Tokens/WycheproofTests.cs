using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.EdgeProxy.Tokens;

namespace Authio.EdgeProxy.Tests.Tokens;

/// <summary>Wycheproof vectors against the edge's JWS layer, key-set hygiene and raw verifiers.</summary>
public sealed class WycheproofTests
{
    private static readonly string[] AllAsymmetric = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];

    /// <summary>
    /// Vectors whose label a strict JWT verifier may legitimately disagree with, each with the reason (see
    /// shared/testvectors/README.md). Only these may differ from Wycheproof's verdict; any other difference fails.
    /// </summary>
    private static readonly Dictionary<string, string> QuestionableLabels = new()
    {
        ["346"] = "the JWK pins PS256 but the token says PS384: a pinned key is never used for another alg",
        ["347"] = "the JWK says alg 'ES521' (not a JWA name) while the token says ES512: mismatch, refused",
        ["349"] = "key_ops is the one malformed value 'sign, verify' (RFC 7517 §4.3 lists values separately), so it does not grant verify",
        ["350"] = "as 346",
        ["351"] = "as 347",
        ["367"] = "byte-identical to valid tc 357, labelled invalid",
        ["370"] = "byte-identical to valid tc 357, labelled invalid",
        ["372"] = "labelled valid although the MAC does not cover the inserted bytes",
        ["373"] = "labelled valid although the MAC does not cover the inserted bytes",
    };

    /// <summary>An empty payload segment is a valid JWS but can never be a JWT claims set; the edge refuses it at the structure check.</summary>
    private const string EmptyPayload = "emptyPayload";

    private static (JwtValidator Validator, string? Refusal) ValidatorFor(JsonElement privateJwk)
    {
        var kty = privateJwk.GetProperty("kty").GetString();
        if (kty == "oct")
        {
            var secret = Base64UrlStrict.TryDecodeToArray(privateJwk.GetProperty("k").GetString()) ?? [];
            if (secret.Length < 32)
            {
                return (null!, "HS256 secret under 32 bytes");
            }
            var hs = new TrustedIssuer(new IssuerOptions
            {
                Issuer = "w", Audiences = ["a"], Algorithms = ["HS256"], SharedSecret = "base64:" + Convert.ToBase64String(secret),
            });
            return (new JwtValidator(new IssuerRegistry([hs]), TimeProvider.System, new EdgeTokenOptions()), null);
        }
        var issuer = new TrustedIssuer(new IssuerOptions { Issuer = "w", Audiences = ["a"], JwksUri = "x", Algorithms = [.. AllAsymmetric] });
        var registry = new IssuerRegistry([issuer]);
        var publicJwk = JsonNode.Parse(privateJwk.GetRawText())!.AsObject();
        foreach (var member in new[] { "d", "p", "q", "dp", "dq", "qi", "k" })
        {
            publicJwk.Remove(member);
        }
        var jwks = Encoding.UTF8.GetBytes(new JsonObject { ["keys"] = new JsonArray(publicJwk) }.ToJsonString());
        if (!JwksParser.TryParse(jwks, issuer, out var keys, out var refusal))
        {
            return (null!, refusal);
        }
        registry.Publish(issuer, new KeySet(keys, DateTimeOffset.UtcNow));
        return (new JwtValidator(registry, TimeProvider.System, new EdgeTokenOptions()), null);
    }

    private static bool SignatureLayerAccepts(JwtValidator validator, string jws)
    {
        var token = Encoding.ASCII.GetBytes(jws);
        if (validator.VerifySignature(token, out var start, out var end, out _) is null)
        {
            return false;
        }
        var buffer = new byte[JwtValidator.PayloadBufferSize(token.Length)];
        return Base64UrlStrict.TryDecode(token.AsSpan(start, end - start), buffer, out _);
    }

    [WycheproofFact]
    public void Jws_signature_layer_agrees_with_wycheproof()
    {
        var disagreements = new List<string>();
        var checkedCount = 0;
        foreach (var (group, test) in Wycheproof.Tests("json_web_signature_test.json"))
        {
            var id = test.GetProperty("tcId").ToString();
            var expectedValid = test.GetProperty("result").GetString() == "valid";
            var jws = test.GetProperty("jws").GetString()!;
            var (validator, refusal) = ValidatorFor(group.GetProperty("private"));
            var accepted = refusal is null && SignatureLayerAccepts(validator, jws);
            checkedCount++;
            var comment = test.GetProperty("comment").GetString();
            if (accepted != expectedValid && !QuestionableLabels.ContainsKey(id) && !(comment == EmptyPayload && !accepted))
            {
                disagreements.Add($"tc {id} ({comment}): expected {(expectedValid ? "valid" : "invalid")}, edge {(accepted ? "accepted" : "rejected")}{(refusal is null ? "" : " — key refused: " + refusal)}");
            }
            // None of these payloads is a JSON object: as access tokens every one must be rejected.
            if (refusal is null)
            {
                var token = Encoding.ASCII.GetBytes(jws);
                Assert.False(validator.TryValidate(token, new byte[JwtValidator.PayloadBufferSize(token.Length)], out _, out _), $"tc {id} accepted as a JWT");
            }
        }
        Assert.True(checkedCount > 390, $"only {checkedCount} vectors read");
        Assert.True(disagreements.Count == 0, string.Join(Environment.NewLine, disagreements));
    }

    private static TrustedIssuer AnyIssuer() =>
        new(new IssuerOptions { Issuer = "w", Audiences = ["a"], JwksUri = "x", Algorithms = [.. AllAsymmetric] });

    private static void AssertVerifierAgrees(string file, Func<JsonElement, SigningKey> keyOf, JwsAlgorithm alg)
    {
        var failures = new List<string>();
        var count = 0;
        foreach (var (group, test) in Wycheproof.Tests(file))
        {
            var result = test.GetProperty("result").GetString();
            if (result == "acceptable")
            {
                continue;
            }
            var key = keyOf(group);
            var verified = key.Verify(alg, Convert.FromHexString(test.GetProperty("msg").GetString()!), Convert.FromHexString(test.GetProperty("sig").GetString()!));
            count++;
            if (verified != (result == "valid"))
            {
                failures.Add($"tc {test.GetProperty("tcId")} ({test.GetProperty("comment").GetString()}): expected {result}, verified={verified}");
            }
        }
        Assert.True(count > 50, $"only {count} vectors read from {file}");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [WycheproofFact]
    public void Es256_verifier_agrees_including_zero_r_and_s()
    {
        var issuer = AnyIssuer();
        AssertVerifierAgrees("ecdsa_secp256r1_sha256_p1363_test.json", group =>
        {
            var point = Convert.FromHexString(group.GetProperty("publicKey").GetProperty("uncompressed").GetString()!); // 04 || X || Y
            return new EcSigningKey(null, null, issuer, "P-256", point[1..33], point[33..65]);
        }, JwsAlgorithm.ES256);
    }

    private static RsaSigningKey RsaKey(JsonElement jwk) => new(null, null, AnyIssuer(),
        Base64UrlStrict.TryDecodeToArray(jwk.GetProperty("n").GetString())!, Base64UrlStrict.TryDecodeToArray(jwk.GetProperty("e").GetString())!);

    [WycheproofFact]
    public void Rs256_verifier_agrees() =>
        AssertVerifierAgrees("rsa_signature_2048_sha256_test.json", group => RsaKey(group.GetProperty("keyJwk")), JwsAlgorithm.RS256);

    [WycheproofFact]
    public void Ps256_verifier_agrees() =>
        AssertVerifierAgrees("rsa_pss_2048_sha256_mgf1_32_test.json", group => RsaKey(group.GetProperty("publicKeyJwk")), JwsAlgorithm.PS256);

    [WycheproofFact]
    public void Hs256_verifier_accepts_only_full_length_valid_tags()
    {
        var count = 0;
        foreach (var (group, test) in Wycheproof.Tests("hmac_sha256_test.json"))
        {
            var key = Convert.FromHexString(test.GetProperty("key").GetString()!);
            var issuer = new TrustedIssuer(new IssuerOptions { Issuer = "w", Audiences = ["a"], SharedSecret = "base64:" + Convert.ToBase64String(key), Algorithms = ["HS256"] });
            var verified = issuer.Hmac!.Verify(JwsAlgorithm.HS256, Convert.FromHexString(test.GetProperty("msg").GetString()!), Convert.FromHexString(test.GetProperty("tag").GetString()!));
            // Truncated tags are never accepted: JWS HS256 signatures are the full 32 bytes.
            var expected = test.GetProperty("result").GetString() == "valid" && group.GetProperty("tagSize").GetInt32() == 256;
            Assert.True(verified == expected, $"tc {test.GetProperty("tcId")}: expected {expected}");
            count++;
        }
        Assert.True(count > 100);
    }

    [WycheproofFact]
    public void Key_set_hygiene_refuses_every_bad_set()
    {
        foreach (var (group, test) in Wycheproof.Tests("json_web_key_test.json"))
        {
            var id = test.GetProperty("tcId").ToString();
            var set = group.GetProperty("private");
            var keys = set.TryGetProperty("keys", out var array) ? array.EnumerateArray().ToArray() : [set];
            var publicKeys = new JsonArray();
            foreach (var key in keys)
            {
                var node = JsonNode.Parse(key.GetRawText())!.AsObject();
                foreach (var member in new[] { "d", "p", "q", "dp", "dq", "qi" })
                {
                    node.Remove(member);
                }
                publicKeys.Add(node);
            }
            var issuer = AnyIssuer();
            var refused = !JwksParser.TryParse(Encoding.UTF8.GetBytes(new JsonObject { ["keys"] = publicKeys }.ToJsonString()), issuer, out var parsed, out var reason);
            var accepted = false;
            if (!refused)
            {
                var registry = new IssuerRegistry([issuer]);
                registry.Publish(issuer, new KeySet(parsed, DateTimeOffset.UtcNow));
                var validator = new JwtValidator(registry, TimeProvider.System, new EdgeTokenOptions());
                accepted = SignatureLayerAccepts(validator, test.GetProperty("jws").GetString()!);
            }
            var hasSymmetric = keys.Any(k => k.GetProperty("kty").GetString() == "oct");
            if (test.GetProperty("result").GetString() == "invalid" || hasSymmetric)
            {
                // Symmetric keys are never taken from a JWKS (HS256 secrets come only from configuration), so every
                // set holding one is refused — including the 'valid' symmetric-only sets (tc 2, 13, 14, 15).
                Assert.False(accepted, $"tc {id} ({test.GetProperty("comment").GetString()}) was accepted");
            }
            else
            {
                Assert.True(accepted, $"tc {id} ({test.GetProperty("comment").GetString()}) was rejected: {reason}");
            }
        }
    }
}
