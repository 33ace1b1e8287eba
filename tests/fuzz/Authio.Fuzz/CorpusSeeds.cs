using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Authio.Shared.ApiKeys;
using Authio.Shared.Sync;

namespace Authio.Fuzz;

/// <summary>
/// Writes the starting corpus: the cases the unit tests use (<see cref="WriteProject"/>, committed under
/// tests/fuzz/corpus), and seeds derived from the Wycheproof vectors (<see cref="WriteWycheproof"/>, made at fuzzing time
/// from ../shared/testvectors and never committed: that folder's terms ask that the vectors be read in place).
/// </summary>
internal static class CorpusSeeds
{
    private const int MaxWycheproofSeeds = 48;

    public static void WriteProject(string root)
    {
        var now = FuzzKeys.Now.ToUnixTimeSeconds();
        string Claims(string extra = "", long? exp = null) =>
            $$"""{"iss":"{{FuzzKeys.Issuer}}","aud":"{{FuzzKeys.Audience}}","sub":"user_1","org":"org_1","sid":"sess_1","jti":"j1","scope":"read:things","iat":{{now}},"nbf":{{now}},"exp":{{exp ?? now + 900}}{{extra}}}""";
        string HsClaims(string extra = "") => Claims(extra).Replace(FuzzKeys.Issuer, FuzzKeys.Issuer + "/hs", StringComparison.Ordinal);
        const string Es = $$"""{"alg":"ES256","kid":"{{FuzzKeys.EcKid}}","typ":"at+jwt"}""";
        const string Hs = """{"alg":"HS256","typ":"at+jwt"}""";
        var jws = new Dictionary<string, string>
        {
            ["es256-valid"] = "\0" + FuzzKeys.SignEs256(Es, Claims()),
            ["es256-expired"] = "\0" + FuzzKeys.SignEs256(Es, Claims(exp: now - 3600)),
            ["es256-alg-none"] = "\0" + FuzzKeys.B64("""{"alg":"none"}""") + "." + FuzzKeys.B64(Claims()) + ".",
            ["es256-crit"] = "\0" + FuzzKeys.SignEs256($$"""{"alg":"ES256","kid":"{{FuzzKeys.EcKid}}","crit":["exp"]}""", Claims()),
            ["es256-escaped-dup-alg"] = "\0" + FuzzKeys.SignEs256($$"""{"alg":"ES256","\u0061lg":"ES256","kid":"{{FuzzKeys.EcKid}}"}""", Claims()),
            ["es256-unknown-kid"] = "\0" + FuzzKeys.SignEs256("""{"alg":"ES256","kid":"other"}""", Claims()),
            ["hs256-valid"] = "\u0001" + FuzzKeys.SignHs256(Hs, HsClaims()),
            ["hs256-scp-acr"] = "\u0001" + FuzzKeys.SignHs256(Hs, HsClaims(""","scp":["a","b"],"acr":"mfa","auth_time":1767225000,"role":"mod" """)),
            ["hs256-aud-array"] = "\u0001" + FuzzKeys.SignHs256(Hs, HsClaims().Replace($"\"aud\":\"{FuzzKeys.Audience}\"", $"\"aud\":[\"x\",\"{FuzzKeys.Audience}\"]", StringComparison.Ordinal)),
            ["hs256-dup-sub"] = "\u0001" + FuzzKeys.SignHs256(Hs, HsClaims(""","s\u0075b":"user_2" """)),
            ["hs256-escaped-controls"] = "\u0001" + FuzzKeys.SignHs256(Hs, HsClaims(""","x":"\u0000\r\n","org2":"\ud800" """)),
            ["hs256-fractional-dates"] = "\u0001" + FuzzKeys.SignHs256(Hs, HsClaims().Replace($"\"exp\":{now + 900}", "\"exp\":1.7e300", StringComparison.Ordinal)),
            ["hs256-nested"] = "\u0001" + FuzzKeys.SignHs256(Hs, HsClaims(""","n":[[[[{"a":[1,2,{"b":null}]}]]]]""")),
        };
        jws["json-hs256-valid"] = "\u0002" + Hs + "\n" + HsClaims();
        jws["json-hs256-scp-acr"] = "\u0002" + Hs + "\n" + HsClaims(""","scp":["a","b"],"acr":"urn:authio:acr:phr","auth_time":1767225000.5""");
        jws["json-hs256-escapes"] = "\u0002" + """{"\u0061lg":"HS256","typ":"application/AT+JWT","x":{"jwk":[1,2]}}""" + "\n" + HsClaims(""","role":"r\u00e9le","scope":"a\tb" """);
        jws["json-hs256-exp-string"] = "\u0002" + Hs + "\n" + HsClaims().Replace($"\"exp\":{now + 900}", "\"exp\":\"soon\"", StringComparison.Ordinal);
        Write(root, "jws", jws.ToDictionary(p => p.Key, p => Encoding.UTF8.GetBytes(p.Value)));

        Write(root, "base64url", new Dictionary<string, byte[]>
        {
            ["empty"] = [],
            ["header"] = Encoding.ASCII.GetBytes(FuzzKeys.B64(Es)),
            ["rem2"] = "QQ"u8.ToArray(),
            ["rem3"] = "QUI"u8.ToArray(),
            ["stray-bits"] = "QR"u8.ToArray(),
            ["padded"] = "QQ=="u8.ToArray(),
            ["standard-chars"] = "+/+/"u8.ToArray(),
            ["whitespace"] = "QU JD"u8.ToArray(),
            ["all-alphabet"] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"u8.ToArray(),
        });

        using var rsa = RSA.Create(2048);
        var rsaPublic = rsa.ExportParameters(false);
        var rsaJwk = $$"""{"kty":"RSA","kid":"r1","use":"sig","alg":"RS256","n":"{{System.Buffers.Text.Base64Url.EncodeToString(rsaPublic.Modulus)}}","e":"AQAB"}""";
        Write(root, "jwks", new Dictionary<string, string>
        {
            ["ec"] = FuzzKeys.EcJwks(),
            ["rsa"] = $$"""{"keys":[{{rsaJwk}}]}""",
            ["rsa-org"] = $$"""{"keys":[{{rsaJwk.Replace("\"use\"", "\"org\":\"org_a\",\"use\"", StringComparison.Ordinal)}}]}""",
            ["empty"] = """{"keys":[]}""",
            ["oct"] = """{"keys":[{"kty":"oct","k":"AAAA"}]}""",
            ["okp-skipped"] = """{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}""",
            ["key-ops"] = """{"keys":[{"kty":"EC","crv":"P-384","key_ops":["sign"],"x":"","y":""}]}""",
        }.ToDictionary(p => p.Key, p => Encoding.UTF8.GetBytes(p.Value)));

        Write(root, "ratelimit", new[]
        {
            "100/1s burst 200 per org global", "  3/1m   burst 3  per org ", "60/1h per subject", "5/500ms PER IP", "1000/1h burst 10 global",
            "7/2s PER CREDENTIAL", "10/99999999999999h", "10/86400001ms", "100000000/1ms", "10/1s burst 5 burst 6", "10/1s global burst 5",
            "0/1s", "10/1.5s", "1/24h burst 1000000000",
        }.Select((text, i) => (i, text)).ToDictionary(p => $"case-{p.i:00}", p => Encoding.UTF8.GetBytes(p.text)));

        var live = ApiKeyFormat.Generate(ApiKeyEnvironment.Live);
        Write(root, "apikey", new Dictionary<string, string>
        {
            ["live"] = live,
            ["test"] = ApiKeyFormat.Generate(ApiKeyEnvironment.Test),
            ["bad-checksum"] = live[..^1] + (live[^1] == '0' ? '1' : '0'),
            ["prefix-only"] = "sk_live_",
            ["other-prefix"] = "sk_prod_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef000000",
        }.ToDictionary(p => p.Key, p => Encoding.ASCII.GetBytes(p.Value)));

        var jwks = FuzzKeys.EcJwks().Replace("\"use\"", "\"org\":\"org_a\",\"use\"", StringComparison.Ordinal);
        Write(root, "changefeed", new Dictionary<string, string>
        {
            ["redis-revocation"] = "\0" + """{"seq":11,"type":"revocation","revocation":{"seq":11,"kind":"sid","value":"s","not_before":null,"expires_at":99999999999},"jwks":null}""",
            ["redis-user-not-before"] = "\0" + """{"seq":12,"type":"revocation","revocation":{"seq":12,"kind":"user_not_before","value":"u","not_before":1767225600,"expires_at":99999999999,"org_id":"org_a"}}""",
            ["redis-signing-key"] = "\0" + """{"seq":13,"type":"revocation","revocation":{"seq":13,"kind":"signing_key","value":"fuzz-es256","not_before":null,"expires_at":0}}""",
            ["redis-org-keys"] = "\0" + $$$"""{"seq":14,"type":"org_keys","org_keys":{"org_id":"org_a","jwks":{{{jwks}}}}}""",
            ["redis-org-rate-limit"] = "\0" + """{"seq":15,"type":"org_rate_limit","org_settings":{"org_id":"org_a","rate_limit":"10/1s burst 20 per org"}}""",
            ["http-batch"] = "\u0001" + $$$"""{"sequence":16,"changes":[{"seq":11,"type":"jwks","jwks":{{{FuzzKeys.EcJwks()}}}},{"seq":16,"type":"revocation","revocation":{"seq":16,"kind":"jti","value":"j","not_before":null,"expires_at":1}}],"reset":false}""",
            ["http-snapshot"] = "\u0002" + JsonSerializer.Serialize(new EdgeSnapshot(20, new EdgeIssuerInfo(FuzzKeys.Issuer, [FuzzKeys.Audience], "u", JsonDocument.Parse(jwks).RootElement),
                [new RevocationRecord(1, "api_key", "k", null, 99999999999)], FuzzKeys.Now, [new EdgeOrgSettings("org_a", "5/1s")], true, EdgeFeedSignature.PublicKeyOf(FuzzKeys.Feed))),
        }.ToDictionary(p => p.Key, p => Encoding.UTF8.GetBytes(p.Value)));
    }

    /// <summary>Seeds from the Wycheproof JWS and JWK vectors; false (and nothing written) when the folder is absent.</summary>
    public static bool WriteWycheproof(string root, string wycheproof)
    {
        var files = new[] { "json_web_signature_test.json", "json_web_key_test.json" }.Select(f => Path.Combine(wycheproof, f)).Where(File.Exists).ToArray();
        if (files.Length == 0)
        {
            return false;
        }
        var tokens = new List<string>();
        var keys = new List<string>();
        foreach (var file in files)
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            foreach (var group in document.RootElement.GetProperty("testGroups").EnumerateArray())
            {
                var publicJwk = JsonNode.Parse(group.GetProperty("private").GetRawText())!.AsObject();
                foreach (var member in new[] { "d", "p", "q", "dp", "dq", "qi", "k" })
                {
                    publicJwk.Remove(member);
                }
                keys.Add(new JsonObject { ["keys"] = new JsonArray(publicJwk) }.ToJsonString());
                keys.Add(new JsonObject { ["keys"] = new JsonArray(JsonNode.Parse(group.GetProperty("private").GetRawText())) }.ToJsonString());
                tokens.AddRange(group.GetProperty("tests").EnumerateArray().Select(t => t.GetProperty("jws").GetString()!));
            }
        }
        var sample = tokens.Distinct().Where(t => t.Length < 2048).Where((_, i) => i % Math.Max(1, tokens.Count / MaxWycheproofSeeds) == 0).Take(MaxWycheproofSeeds).ToArray();
        Write(root, "jws", sample.Select((t, i) => (i, t)).ToDictionary(p => $"wycheproof-{p.i:000}", p => Encoding.ASCII.GetBytes("\0" + p.t)));
        Write(root, "base64url", sample.SelectMany(t => t.Split('.')).Distinct().Take(MaxWycheproofSeeds)
            .Select((s, i) => (i, s)).ToDictionary(p => $"wycheproof-{p.i:000}", p => Encoding.ASCII.GetBytes(p.s)));
        Write(root, "jwks", keys.Distinct().Take(MaxWycheproofSeeds).Select((k, i) => (i, k)).ToDictionary(p => $"wycheproof-{p.i:000}", p => Encoding.UTF8.GetBytes(p.k)));
        Write(root, "changefeed", keys.Distinct().Where((_, i) => i % 2 == 0).Take(12).Select((k, i) => (i, k)).ToDictionary(
            p => $"wycheproof-{p.i:000}", p => Encoding.UTF8.GetBytes("\0" + $$$"""{"seq":{{{20 + p.i}}},"type":"org_keys","org_keys":{"org_id":null,"jwks":{{{p.k}}}}}""")));
        return true;
    }

    private static void Write(string root, string target, IReadOnlyDictionary<string, byte[]> seeds)
    {
        var folder = Path.Combine(root, target);
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in seeds)
        {
            File.WriteAllBytes(Path.Combine(folder, "seed-" + name), bytes);
        }
    }
}
