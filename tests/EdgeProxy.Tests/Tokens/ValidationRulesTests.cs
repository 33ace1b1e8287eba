using System.Net;
using System.Security.Cryptography;
using System.Text;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Tokens;

/// <summary>RFC 7515/7519/8725 rules, each checked through real HTTP: what the caller gets and whether upstream was reached.</summary>
public sealed class ValidationRulesTests(EdgeWorld world) : IClassFixture<EdgeWorld>
{
    private EdgeTestHost Edge => world.Edge;

    private async Task AssertRejected(string token, string code = "unauthorized", string challenge = "invalid_token")
    {
        var before = world.Upstream.Received.Count;
        using var response = await Edge.GetAsync("/api/x", token);
        await ProblemAssert.Is(response, 401, code);
        Assert.Contains(challenge, ProblemAssert.Challenge(response));
        Assert.Equal(before, world.Upstream.Received.Count);
    }

    private string Claims(string? extra = null, long? exp = null) => Jwt.Claims(world.Now, exp: exp, extra: extra);

    [Fact]
    public async Task Valid_token_is_forwarded_with_identity()
    {
        using var response = await Edge.GetAsync("/api/orders", world.Mint(sub: "user_42", org: "org_acme", scope: "read:things write:things"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = world.Upstream.Last;
        Assert.Equal("/api/orders", received.Path);
        Assert.Equal("user_42", received.Header("X-Authio-Subject"));
        Assert.Equal("org_acme", received.Header("X-Authio-Org"));
        Assert.Equal("read:things write:things", received.Header("X-Authio-Scopes"));
        Assert.Equal("jwt", received.Header("X-Authio-Auth-Type"));
        Assert.Equal("sess_1", received.Header("X-Authio-Session"));
        Assert.NotNull(received.Header("X-Authio-Token-Id"));
        Assert.Null(received.Header("Authorization"));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("None")]
    [InlineData("NONE")]
    [InlineData("nOnE")]
    public async Task Alg_none_in_any_spelling_is_rejected(string alg)
    {
        var unsigned = Jwt.B64($"{{\"alg\":\"{alg}\",\"typ\":\"JWT\"}}") + "." + Jwt.B64(Claims()) + ".";
        await AssertRejected(unsigned);
        // Even with a signature segment present.
        var signed = Jwt.Sign(world.Key, $"{{\"alg\":\"{alg}\",\"kid\":\"key-1\"}}", Claims(), alg: "ES256");
        await AssertRejected(signed);
    }

    [Fact]
    public async Task Hs256_signed_with_the_public_key_bytes_is_rejected()
    {
        // Classic algorithm confusion: use the issuer's public key as an HMAC secret.
        var publicKey = world.Key.Ec!.ExportSubjectPublicKeyInfo();
        var pem = Encoding.ASCII.GetBytes(world.Key.Ec.ExportSubjectPublicKeyInfoPem());
        await AssertRejected(Jwt.Hs256(publicKey, "{\"alg\":\"HS256\",\"kid\":\"key-1\"}", Claims()));
        await AssertRejected(Jwt.Hs256(pem, "{\"alg\":\"HS256\",\"kid\":\"key-1\"}", Claims()));
    }

    [Fact]
    public async Task Embedded_jwk_is_never_trusted()
    {
        var attacker = TestKey.Es256("key-1");
        var jwk = System.Text.Json.JsonSerializer.Serialize(attacker.PublicJwk());
        await AssertRejected(Jwt.Sign(attacker, $"{{\"alg\":\"ES256\",\"kid\":\"key-1\",\"jwk\":{jwk}}}", Claims()));
        await AssertRejected(Jwt.Sign(attacker, $"{{\"alg\":\"ES256\",\"kid\":\"attacker\",\"jwk\":{jwk},\"jku\":\"http://127.0.0.1:1/jwks\"}}", Claims()));
    }

    [Fact]
    public async Task Unknown_kid_is_rejected()
    {
        var stranger = TestKey.Es256("nobody-knows-me");
        await AssertRejected(Jwt.Mint(stranger, world.Now));
    }

    [Fact]
    public async Task Expiry_honours_the_clock_skew_boundary()
    {
        var now = world.Now.ToUnixTimeSeconds();
        // Issued (iat, nbf) 15 minutes before it expires, as a real token is: an nbf after exp is never valid.
        string WithExp(long exp) => Jwt.Sign(world.Key, Jwt.Header(world.Key),
            $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"u\",\"iat\":{exp - 900},\"nbf\":{exp - 900},\"exp\":{exp}}}");
        using (var inside = await Edge.GetAsync("/api/x", WithExp(now - 29)))
        {
            Assert.Equal(HttpStatusCode.OK, inside.StatusCode);
        }
        await AssertRejected(WithExp(now - 30), "token_expired");
        await AssertRejected(WithExp(now - 3600), "token_expired");
    }

    [Fact]
    public async Task Not_before_honours_the_clock_skew_boundary()
    {
        var now = world.Now.ToUnixTimeSeconds();
        string WithNbf(long nbf) => Jwt.Sign(world.Key, Jwt.Header(world.Key),
            $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"u\",\"nbf\":{nbf},\"exp\":{now + 600}}}");
        using (var inside = await Edge.GetAsync("/api/x", WithNbf(now + 30)))
        {
            Assert.Equal(HttpStatusCode.OK, inside.StatusCode);
        }
        await AssertRejected(WithNbf(now + 31));
    }

    [Fact]
    public async Task Iat_in_the_future_is_rejected()
    {
        var now = world.Now.ToUnixTimeSeconds();
        await AssertRejected(Jwt.Sign(world.Key, Jwt.Header(world.Key),
            $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"u\",\"iat\":{now + 120},\"exp\":{now + 600}}}"));
    }

    [Theory]
    [InlineData("{\"iss\":\"https://evil.test\",\"aud\":\"api://edge-tests\",\"sub\":\"u\",\"exp\":EXP}")]
    [InlineData("{\"iss\":\"https://issuer.test/\",\"aud\":\"api://edge-tests\",\"sub\":\"u\",\"exp\":EXP}")]
    [InlineData("{\"aud\":\"api://edge-tests\",\"sub\":\"u\",\"exp\":EXP}")]
    [InlineData("{\"iss\":\"https://issuer.test\",\"aud\":\"api://other\",\"sub\":\"u\",\"exp\":EXP}")]
    [InlineData("{\"iss\":\"https://issuer.test\",\"aud\":[\"api://other\",\"x\"],\"sub\":\"u\",\"exp\":EXP}")]
    [InlineData("{\"iss\":\"https://issuer.test\",\"sub\":\"u\",\"exp\":EXP}")]
    [InlineData("{\"iss\":\"https://issuer.test\",\"aud\":\"API://EDGE-TESTS\",\"sub\":\"u\",\"exp\":EXP}")]
    [InlineData("{\"iss\":\"https://issuer.test\",\"aud\":\"api://edge-tests\",\"sub\":\"u\"}")]
    [InlineData("{\"iss\":\"https://issuer.test\",\"aud\":\"api://edge-tests\",\"sub\":\"u\",\"exp\":\"EXP\"}")]
    [InlineData("{\"iss\":\"https://issuer.test\",\"aud\":\"api://edge-tests\",\"exp\":EXP}")]
    [InlineData("{\"iss\":\"https://issuer.test\",\"aud\":\"api://edge-tests\",\"sub\":42,\"exp\":EXP}")]
    [InlineData("{\"iss\":\"https://issuer.test\",\"aud\":\"api://edge-tests\",\"sub\":\"u\",\"exp\":EXP,\"nbf\":\"soon\"}")]
    public async Task Wrong_issuer_audience_or_claim_types_are_rejected(string payloadTemplate)
    {
        var payload = payloadTemplate.Replace("EXP", (world.Now.ToUnixTimeSeconds() + 600).ToString());
        await AssertRejected(Jwt.Sign(world.Key, Jwt.Header(world.Key), payload));
    }

    [Fact]
    public async Task Audience_array_containing_ours_is_accepted()
    {
        var token = Jwt.Sign(world.Key, Jwt.Header(world.Key), Jwt.Claims(world.Now, aud: $"[\"api://other\",\"{Jwt.Audience}\"]"));
        using var response = await Edge.GetAsync("/api/x", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Tampered_payload_is_rejected()
    {
        var token = world.Mint(sub: "user_1");
        var parts = token.Split('.');
        var forged = Jwt.B64(Encoding.UTF8.GetString(Convert.FromBase64String(ToStd(parts[1]))).Replace("user_1", "admin_1"));
        await AssertRejected(parts[0] + "." + forged + "." + parts[2]);
        // A flipped bit in the signature, too.
        var signature = parts[2].ToCharArray();
        signature[5] = signature[5] == 'A' ? 'B' : 'A';
        await AssertRejected(parts[0] + "." + parts[1] + "." + new string(signature));
    }

    [Fact]
    public async Task Non_canonical_base64url_is_rejected()
    {
        var token = world.Mint();
        var parts = token.Split('.');
        await AssertRejected(parts[0] + "=." + parts[1] + "." + parts[2]);
        await AssertRejected(parts[0] + "." + parts[1] + "." + parts[2] + "==");
        await AssertRejected(parts[0] + "." + '+' + parts[1][1..] + "." + parts[2]);
        await AssertRejected(parts[0] + "." + parts[1][..^1] + '/' + "." + parts[2]);
        await AssertRejected(parts[0] + "." + parts[1] + " ." + parts[2], challenge: "invalid_request");
        await AssertRejected(parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[2]);
        await AssertRejected(parts[0] + "." + parts[1]);
        await AssertRejected("..");
        await AssertRejected("not-a-jwt");
        // Stray bits: the last character of a 64-byte signature (86 chars, remainder 2) must have 4 zero low bits.
        var sig = parts[2];
        var stray = sig[..^1] + (char)(sig[^1] + 1); // A→B, Q→R, g→h, w→x: same bytes, non-zero unused bits
        await AssertRejected(parts[0] + "." + parts[1] + "." + stray);
    }

    [Fact]
    public async Task Duplicate_member_names_are_rejected()
    {
        var exp = world.Now.ToUnixTimeSeconds() + 600;
        await AssertRejected(Jwt.Sign(world.Key, Jwt.Header(world.Key),
            $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"user_1\",\"sub\":\"admin\",\"exp\":{exp}}}"));
        // The same name spelled with an escape is still a duplicate.
        await AssertRejected(Jwt.Sign(world.Key, Jwt.Header(world.Key),
            $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"user_1\",\"\\u0073ub\":\"admin\",\"exp\":{exp}}}"));
        await AssertRejected(Jwt.Sign(world.Key, "{\"alg\":\"ES256\",\"kid\":\"key-1\",\"kid\":\"key-1\"}", Claims()));
        await AssertRejected(Jwt.Sign(world.Key, "{\"alg\":\"ES256\",\"alg\":\"none\",\"kid\":\"key-1\"}", Claims()));
    }

    [Theory]
    [InlineData("[1,2,3]")]
    [InlineData("\"a string\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("{\"sub\":\"u\"} {\"sub\":\"v\"}")]
    [InlineData("{\"sub\":\"u\",}")]
    [InlineData("{\"sub\":\"u\" /* comment */}")]
    [InlineData("")]
    public async Task Non_object_or_invalid_json_payloads_are_rejected(string payload)
    {
        await AssertRejected(Jwt.Sign(world.Key, Jwt.Header(world.Key), payload));
    }

    [Theory]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"key-1\",\"crit\":[\"exp\"],\"exp\":1}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"key-1\",\"crit\":[]}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"key-1\",\"b64\":false,\"crit\":[\"b64\"]}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"key-1\",\"typ\":\"JOSE+JSON\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":\"key-1\",\"typ\":\"dpop+jwt\"}")]
    [InlineData("{\"alg\":\"ES256\",\"kid\":42}")]
    [InlineData("{\"kid\":\"key-1\"}")]
    [InlineData("[\"ES256\"]")]
    [InlineData("{\"alg\":\"RS256\",\"kid\":\"key-1\"}")]
    [InlineData("{\"alg\":\"ES512\",\"kid\":\"key-1\"}")]
    public async Task Bad_headers_are_rejected(string header)
    {
        await AssertRejected(Jwt.Sign(world.Key, header, Claims(), alg: "ES256"));
    }

    [Theory]
    [InlineData("at+jwt")]
    [InlineData("AT+JWT")]
    [InlineData("application/at+jwt")]
    [InlineData("JWT")]
    [InlineData(null)]
    public async Task Allowed_typ_values_are_accepted(string? typ)
    {
        using var response = await Edge.GetAsync("/api/x", Jwt.Sign(world.Key, Jwt.Header(world.Key, typ), Claims()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ecdsa_signatures_must_be_raw_and_non_zero()
    {
        var input = Jwt.B64(Jwt.Header(world.Key)) + "." + Jwt.B64(Claims());
        var der = world.Key.Ec!.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        await AssertRejected(input + "." + Jwt.B64(der));
        await AssertRejected(input + "." + Jwt.B64(new byte[64]));
        await AssertRejected(input + "." + Jwt.B64(new byte[63]));
    }

    [Theory]
    [InlineData("sub", "user\\r\\nX-Authio-Org: org_admin")]
    [InlineData("sub", "user\\u0000root")]
    [InlineData("org", "org\\n1")]
    [InlineData("scope", "read:things\\u0085")]
    [InlineData("sid", "s\\u007f")]
    public async Task Claims_with_control_characters_make_the_token_invalid(string claim, string escapedValue)
    {
        var exp = world.Now.ToUnixTimeSeconds() + 600;
        var payload = claim == "sub"
            ? $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"{escapedValue}\",\"exp\":{exp}}}"
            : $"{{\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"sub\":\"u\",\"{claim}\":\"{escapedValue}\",\"exp\":{exp}}}";
        await AssertRejected(Jwt.Sign(world.Key, Jwt.Header(world.Key), payload));
    }

    [Fact]
    public async Task Non_ascii_and_percent_claims_reach_upstream_percent_encoded()
    {
        using (var response = await Edge.GetAsync("/api/x", world.Mint(sub: "jos\u00e9", org: "org 100%")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var received = world.Upstream.Last;
        Assert.Equal("jos%C3%A9", received.Header("X-Authio-Subject"));
        Assert.Equal("org 100%25", received.Header("X-Authio-Org"));
        // A literal value never contains '%', so upstreams can always percent-decode.
        Assert.Equal("jos\u00e9", Uri.UnescapeDataString(received.Header("X-Authio-Subject")!));
        Assert.Equal("org 100%", Uri.UnescapeDataString(received.Header("X-Authio-Org")!));
        Assert.Equal("read:things", Uri.UnescapeDataString(received.Header("X-Authio-Scopes")!));
    }

    [Fact]
    public async Task Oversized_token_is_rejected_without_parsing()
    {
        var huge = new string('a', 9000) + "." + new string('b', 10) + "." + new string('c', 10);
        await AssertRejected(huge);
    }

    [Fact]
    public async Task A_one_megabyte_header_gets_431_and_the_edge_survives()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/x");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + new string('a', 1 << 20));
        using var response = await Edge.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        using var after = await Edge.GetAsync("/api/x", world.Mint());
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Scheme_and_credential_count_rules()
    {
        var token = world.Mint();
        using (var lower = await Edge.GetAsync("/api/x", configure: r => r.Headers.TryAddWithoutValidation("Authorization", "bearer " + token)))
        {
            Assert.Equal(HttpStatusCode.OK, lower.StatusCode);
        }
        using (var upper = await Edge.GetAsync("/api/x", configure: r => r.Headers.TryAddWithoutValidation("Authorization", "BEARER " + token)))
        {
            Assert.Equal(HttpStatusCode.OK, upper.StatusCode);
        }
        using (var basic = await Edge.GetAsync("/api/x", configure: r => r.Headers.TryAddWithoutValidation("Authorization", "Basic dXNlcjpwYXNz")))
        {
            await ProblemAssert.Is(basic, 401, "unauthorized");
        }
        using (var two = await Edge.GetAsync("/api/x", configure: r =>
        {
            r.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            r.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }))
        {
            await ProblemAssert.Is(two, 401, "unauthorized");
        }
        using (var list = await Edge.GetAsync("/api/x", configure: r => r.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}, Bearer {token}")))
        {
            await ProblemAssert.Is(list, 401, "unauthorized");
        }
        using (var missing = await Edge.GetAsync("/api/x"))
        {
            await ProblemAssert.Is(missing, 401, "unauthorized");
            Assert.Equal("Bearer", ProblemAssert.Challenge(missing));
        }
        using (var query = await Edge.GetAsync("/api/x?access_token=" + token))
        {
            await ProblemAssert.Is(query, 401, "unauthorized");
        }
    }

    [Fact]
    public async Task Rejections_never_echo_the_token()
    {
        var token = world.Mint();
        var tampered = token[..^4] + "AAAA";
        using var response = await Edge.GetAsync("/api/x", tampered);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(tampered.Split('.')[1], body);
        Assert.DoesNotContain(tampered.Split('.')[1], ProblemAssert.Challenge(response));
    }

    [Fact]
    public async Task Malformed_inputs_never_produce_a_server_error()
    {
        var random = new Random(7);
        var valid = world.Mint();
        for (var i = 0; i < 300; i++)
        {
            var chars = valid.ToCharArray();
            for (var j = 0; j < 1 + random.Next(4); j++)
            {
                chars[random.Next(chars.Length)] = (char)random.Next(33, 127);
            }
            using var response = await Edge.GetAsync("/api/x", configure: r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer " + new string(chars)));
            Assert.True((int)response.StatusCode is 200 or 401, $"mutation {i} gave {(int)response.StatusCode}");
        }
    }

    private static string ToStd(string b64url)
    {
        var s = b64url.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
    }
}
