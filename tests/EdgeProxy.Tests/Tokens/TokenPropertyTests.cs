using System.Text;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.EdgeProxy.Tokens;
using CsCheck;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit.Abstractions;

namespace Authio.EdgeProxy.Tests.Tokens;

/// <summary>
/// The edge's verdict on generated tokens against Microsoft.IdentityModel's <see cref="JsonWebTokenHandler"/> configured
/// the same way (issuer, audience, keys, algorithms, 30 s skew, the edge's key selection and typ rule as delegates). Both
/// read the system clock (the library's clock cannot be replaced in this version): a case during which the second
/// changed is not judged. Valid ES256, RS256 and HS256 tokens (the edge has no EdDSA), wrong alg/kid/typ, exp/nbf/iat around
/// the boundaries, re-encoded segments, duplicated members and flipped bytes. Properties:
/// <list type="bullet">
/// <item>the edge never throws, and never accepts what the library refuses;</item>
/// <item>where the library is strict, the verdicts are equal;</item>
/// <item>where the edge is deliberately stricter, the edge refuses (<see cref="Stricter"/> names each case and why).</item>
/// </list>
/// </summary>
public sealed class TokenPropertyTests(ITestOutputHelper output)
{
    private const int Skew = 30;
    private static readonly byte[] Secret = Encoding.ASCII.GetBytes("property-tests-hs256-secret-32-bytes-long");
    private static readonly TestKey Es = TestKey.Es256("es");
    private static readonly TestKey Rs = TestKey.Rs256("rs");
    private static readonly JwtValidator Edge = BuildEdge();
    private static readonly JsonWebTokenHandler Library = new();
    private static readonly TokenValidationParameters LibraryParameters = BuildLibraryParameters();

    /// <summary>
    /// Where the edge refuses on purpose what Microsoft.IdentityModel (8.x) accepts. Each is a rule the edge's README
    /// states (Validation rules); the library is lenient there by design, not by mistake.
    /// </summary>
    private enum Stricter
    {
        None,
        /// <summary>RFC 7515 §2: base64url without padding. The library strips '='.</summary>
        Padding,
        /// <summary>Non-zero unused bits in a segment's last character: one token, one encoding. The library ignores them.</summary>
        StrayBits,
        /// <summary>'+' and '/' are standard base64, not base64url. The library maps them.</summary>
        StandardAlphabet,
        /// <summary>RFC 7515 §4 / RFC 7519 §4: duplicate member names must be refused. The library keeps the last.</summary>
        DuplicateMember,
        /// <summary>The edge requires a string <c>sub</c> (it becomes X-Authio-Subject). The library does not need one.</summary>
        MissingSubject,
        /// <summary><c>iat</c> after now + skew: a token from the future. The library does not look at iat.</summary>
        IssuedInFuture,
        /// <summary>
        /// now = exp + skew exactly: RFC 7519 §4.1.4 says the current time must be before exp (plus the allowed skew); the
        /// library still accepts at that second (it refuses only exp &lt; now − skew).
        /// </summary>
        ExpiryBoundary,
    }

    private enum KeyChoice
    {
        Es256,
        Rs256,
        Hs256,
    }

    private enum Mutation
    {
        None,
        Padding,
        StrayBits,
        StandardAlphabet,
        DuplicateHeaderMember,
        DuplicatePayloadMember,
        FlipBit,
        Truncate,
    }

    private sealed record Case(
        KeyChoice Key, string? Alg, string? Kid, string? Typ, bool RightIssuer, int Audience, long? Exp, long? Nbf, long? Iat, bool Subject,
        Mutation Mutation, int Segment, int Position, int Bit)
    {
        public override string ToString() =>
            $"{Key} alg={Alg ?? "-"} kid={Kid ?? "-"} typ={Typ ?? "-"} iss={RightIssuer} aud={Audience} exp={Exp} nbf={Nbf} iat={Iat} sub={Subject} {Mutation} seg={Segment} pos={Position} bit={Bit}";
    }

    private static JwtValidator BuildEdge()
    {
        // One issuer with both a JWKS (ES256, RS256) and a shared secret (HS256), as the library is given one issuer.
        var issuer = new TrustedIssuer(new IssuerOptions
        {
            Issuer = Jwt.Issuer, Audiences = [Jwt.Audience], JwksUri = "x", Algorithms = ["ES256", "RS256", "HS256"],
            SharedSecret = TrustedIssuer.Base64SecretPrefix + Convert.ToBase64String(Secret),
        });
        var registry = new IssuerRegistry([issuer]);
        Assert.True(JwksParser.TryParse(Encoding.UTF8.GetBytes(TestKey.Jwks(Es, Rs)), issuer, out var keys, out var error), error);
        registry.Publish(issuer, new KeySet(keys, DateTimeOffset.UtcNow));
        return new JwtValidator(registry, TimeProvider.System, new EdgeTokenOptions());
    }

    private static TokenValidationParameters BuildLibraryParameters()
    {
        var es = new ECDsaSecurityKey(Es.Ec) { KeyId = Es.Kid };
        var rs = new RsaSecurityKey(Rs.Rsa) { KeyId = Rs.Kid };
        var hs = new SymmetricSecurityKey(Secret);
        return new TokenValidationParameters
        {
            ValidIssuer = Jwt.Issuer,
            ValidAudience = Jwt.Audience,
            ValidAlgorithms = ["ES256", "RS256", "HS256"],
            ClockSkew = TimeSpan.FromSeconds(Skew),
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = false,
            // The edge's key selection: HS256 only ever uses the shared secret (a kid is irrelevant); otherwise the key
            // with the token's kid, and without a kid the keys that can verify the alg (the library then checks the alg).
            IssuerSigningKeyResolver = (_, token, kid, _) => ((JsonWebToken)token).Alg == "HS256" ? [hs]
                : string.IsNullOrEmpty(kid) ? [es, rs]
                : new SecurityKey[] { es, rs }.Where(k => k.KeyId == kid),
            // The edge's typ rule: absent, or one of the allowed types in any case.
            TypeValidator = (type, _, _) => string.IsNullOrEmpty(type) || EdgeTokenOptions.DefaultAllowedTypes.Contains(type, StringComparer.OrdinalIgnoreCase)
                ? type : throw new SecurityTokenInvalidTypeException("typ not allowed"),
        };
    }

    /// <summary>Seconds from now: absent, at the boundaries around <paramref name="boundary"/>, or anywhere within two hours.</summary>
    private static Gen<long?> Offsets(long boundary, int absent) => Gen.Frequency(
        (absent, Gen.Const((long?)null)),
        (2, Gen.OneOf<long?>(boundary - 1, boundary, boundary + 1)),
        (5, Gen.Long[-7200, 7200].Select(v => (long?)v)));

    private static readonly Gen<(KeyChoice Key, string? Alg, string? Kid, string? Typ, bool RightIssuer, int Audience)> Headers =
        Gen.Select(
            Gen.Enum<KeyChoice>(),
            Gen.Frequency((8, Gen.Const((string?)"own")), (1, Gen.OneOf<string?>(null, "none", "None", "ES384", "PS256", "HS256", "RS256", "ES256"))),
            Gen.Frequency((8, Gen.Const((string?)"own")), (1, Gen.OneOf<string?>(null, "unknown", "es", "rs"))),
            Gen.Frequency((6, Gen.OneOf<string?>(null, "at+jwt", "JWT", "application/at+jwt")), (1, Gen.OneOf<string?>("AT+JWT", "jwt", "id+jwt", "JOSE"))),
            Gen.Frequency((12, Gen.Const(true)), (1, Gen.Const(false))),
            Gen.Frequency((12, Gen.OneOf(0, 2)), (1, Gen.Const(1))),
            (key, alg, kid, typ, issuer, audience) => (key, (string?)alg, (string?)kid, (string?)typ, issuer, audience));

    private static readonly Gen<(long? Exp, long? Nbf, long? Iat, bool Subject)> Times =
        Gen.Select(Gen.Frequency((3, Offsets(-Skew, 1)), (2, Gen.Long[60, 7200].Select(v => (long?)v))), Offsets(Skew, 4), Offsets(Skew, 4),
            Gen.Frequency((15, Gen.Const(true)), (1, Gen.Const(false))),
            (exp, nbf, iat, subject) => (exp, nbf, iat, subject));

    private static readonly Gen<(Mutation Mutation, int Segment, int Position, int Bit)> Mutations =
        Gen.Select(Gen.Frequency((14, Gen.Const(Mutation.None)), (1, Gen.Enum<Mutation>())), Gen.Int[0, 1], Gen.Int[0, 1000], Gen.Int[0, 7],
            (mutation, segment, position, bit) => (mutation, segment, position, bit));

    private static readonly Gen<Case> Cases = Gen.Select(Headers, Times, Mutations, (h, t, m) =>
        new Case(h.Key, h.Alg, h.Kid, h.Typ, h.RightIssuer, h.Audience, t.Exp, t.Nbf, t.Iat, t.Subject, m.Mutation, m.Segment, m.Position, m.Bit));

    [Fact]
    public void The_edge_agrees_with_microsoft_identitymodel_where_it_is_strict_and_is_stricter_only_on_purpose()
    {
        var counts = new Dictionary<string, int>();
        Cases.Sample(c =>
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var (token, stricter, exact) = Build(c, now);
            var edge = EdgeAccepts(token);
            var library = LibraryAccepts(token);
            if (DateTimeOffset.UtcNow.ToUnixTimeSeconds() != now)
            {
                counts["clock ticked"] = counts.GetValueOrDefault("clock ticked") + 1;
                return;
            }
            Assert.False(edge && !library, "the edge accepted what the library refused");
            if (stricter != Stricter.None)
            {
                Assert.False(edge, $"the edge accepted a token it must refuse ({stricter})");
            }
            else if (exact)
            {
                Assert.Equal(library, edge);
            }
            var key = $"{(edge ? "accepted" : "refused")}/{(stricter == Stricter.None ? exact ? "agree" : "mutated" : "stricter")}";
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }, iter: 2500, threads: 1, print: c => c.ToString());
        output.WriteLine(string.Join(", ", counts.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}")));
        // The generator must reach both verdicts on unmutated tokens, or the agreement above says little.
        Assert.True(counts.GetValueOrDefault("accepted/agree") > 250, string.Join(", ", counts));
        Assert.True(counts.GetValueOrDefault("refused/agree") > 250, string.Join(", ", counts));
        Assert.True(counts.GetValueOrDefault("refused/stricter") > 250, string.Join(", ", counts));
    }

    private static bool EdgeAccepts(string token)
    {
        var bytes = Encoding.UTF8.GetBytes(token);
        return Edge.TryValidate(bytes, new byte[JwtValidator.PayloadBufferSize(bytes.Length)], out _, out var error) && error is null;
    }

    private static bool LibraryAccepts(string token) =>
        Library.ValidateTokenAsync(token, LibraryParameters).GetAwaiter().GetResult().IsValid;

    /// <summary>The token, whether the edge must refuse it on purpose, and whether the two verdicts must be equal.</summary>
    private static (string Token, Stricter Stricter, bool Exact) Build(Case c, long now)
    {
        var own = c.Key switch { KeyChoice.Es256 => "ES256", KeyChoice.Rs256 => "RS256", _ => "HS256" };
        var alg = c.Alg == "own" ? own : c.Alg;
        var kid = c.Kid == "own" ? c.Key switch { KeyChoice.Es256 => Es.Kid, KeyChoice.Rs256 => Rs.Kid, _ => null } : c.Kid;
        var header = new List<string>();
        if (alg is not null)
        {
            header.Add($"\"alg\":\"{alg}\"");
        }
        if (kid is not null)
        {
            header.Add($"\"kid\":\"{kid}\"");
        }
        if (c.Typ is not null)
        {
            header.Add($"\"typ\":\"{c.Typ}\"");
        }
        var audience = c.Audience switch { 1 => "\"api://other\"", 2 => $"[\"api://other\",\"{Jwt.Audience}\"]", _ => $"\"{Jwt.Audience}\"" };
        var claims = new List<string> { $"\"iss\":\"{(c.RightIssuer ? Jwt.Issuer : "https://other.test")}\"", $"\"aud\":{audience}" };
        if (c.Subject)
        {
            claims.Add("\"sub\":\"user_1\"");
        }
        claims.Add("\"jti\":\"j1\"");
        if (c.Exp is { } exp)
        {
            claims.Add($"\"exp\":{now + exp}");
        }
        if (c.Nbf is { } nbf)
        {
            claims.Add($"\"nbf\":{now + nbf}");
        }
        if (c.Iat is { } iat)
        {
            claims.Add($"\"iat\":{now + iat}");
        }

        var stricter = Stricter.None;
        var exact = true;
        switch (c.Mutation)
        {
            case Mutation.DuplicateHeaderMember when header.Count > 0:
                header.Add(c.Position % 2 == 0 ? header[0] : header[0].Replace("\"a", "\"\\u0061", StringComparison.Ordinal).Replace("\"k", "\"\\u006b", StringComparison.Ordinal).Replace("\"t", "\"\\u0074", StringComparison.Ordinal));
                stricter = Stricter.DuplicateMember;
                break;
            case Mutation.DuplicatePayloadMember:
                // Another value for sub (when there is one), or the same iss twice.
                claims.Add(c.Position % 2 == 0 && c.Subject ? "\"sub\":\"user_2\"" : claims[0]);
                stricter = Stricter.DuplicateMember;
                break;
            case Mutation.StandardAlphabet:
                // Six '?' (0x3F) in a row encode to a run containing '_' whatever their alignment: re-encoded as '/'.
                (c.Segment == 0 ? header : claims).Add("\"pad\":\"??????\"");
                break;
        }
        var headerJson = "{" + string.Join(",", header) + "}";
        var payloadJson = "{" + string.Join(",", claims) + "}";
        var segments = new[] { Jwt.B64(headerJson), Jwt.B64(payloadJson) };

        switch (c.Mutation)
        {
            case Mutation.Padding:
                // Grow the JSON with trailing whitespace until the segment needs padding, then pad it.
                segments[c.Segment % 2] = PadTo(c.Segment % 2 == 0 ? headerJson : payloadJson, remainder: 2) + "==";
                stricter = Stricter.Padding;
                break;
            case Mutation.StrayBits:
                var segment = PadTo(c.Segment % 2 == 0 ? headerJson : payloadJson, remainder: 2);
                // Two characters encode one byte: 8 bits and 4 unused ones, set here. Decoders that ignore them see the same byte.
                segments[c.Segment % 2] = segment[..^1] + Base64UrlAlphabet[Base64UrlAlphabet.IndexOf(segment[^1], StringComparison.Ordinal) | (1 + c.Bit % 15)];
                stricter = Stricter.StrayBits;
                break;
            case Mutation.StandardAlphabet:
                segments[c.Segment == 0 ? 0 : 1] = segments[c.Segment == 0 ? 0 : 1].Replace('_', '/').Replace('-', '+');
                stricter = Stricter.StandardAlphabet;
                break;
        }
        var signingInput = segments[0] + "." + segments[1];
        var signatureAlg = c.Key == KeyChoice.Hs256 ? "HS256" : own;
        var signature = c.Key switch
        {
            KeyChoice.Es256 => Es.Sign(signatureAlg, Encoding.ASCII.GetBytes(signingInput)),
            KeyChoice.Rs256 => Rs.Sign(signatureAlg, Encoding.ASCII.GetBytes(signingInput)),
            _ => System.Security.Cryptography.HMACSHA256.HashData(Secret, Encoding.ASCII.GetBytes(signingInput)),
        };
        var token = signingInput + "." + Jwt.B64(signature);

        switch (c.Mutation)
        {
            case Mutation.FlipBit:
                var bytes = Encoding.ASCII.GetBytes(token);
                bytes[c.Position % bytes.Length] ^= (byte)(1 << c.Bit);
                token = Encoding.Latin1.GetString(bytes);
                exact = false;
                break;
            case Mutation.Truncate:
                token = token[..(c.Position % token.Length)];
                exact = false;
                break;
        }

        // Claim-level strictness applies only to tokens the library would otherwise take (right key, alg, typ, iss, aud).
        if (stricter == Stricter.None)
        {
            if (!c.Subject)
            {
                stricter = Stricter.MissingSubject;
            }
            else if (c.Iat > Skew)
            {
                stricter = Stricter.IssuedInFuture;
            }
            else if (c.Exp == -Skew)
            {
                stricter = Stricter.ExpiryBoundary;
            }
        }
        return (token, exact ? stricter : Stricter.None, exact);
    }

    private const string Base64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// <summary>The base64url of <paramref name="json"/> plus trailing spaces, so its length is 4k + <paramref name="remainder"/>.</summary>
    private static string PadTo(string json, int remainder)
    {
        var encoded = Jwt.B64(json);
        while (encoded.Length % 4 != remainder)
        {
            json += " ";
            encoded = Jwt.B64(json);
        }
        return encoded;
    }
}
