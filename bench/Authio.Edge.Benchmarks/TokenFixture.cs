using System.Buffers.Text;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Authio.Edge.Benchmarks;

/// <summary>
/// One issuer with an ES256 key, an RSA-2048 key (both published through a JWKS parsed by the edge's own parser)
/// and an HS256 shared secret; the same realistic access token minted for each algorithm; the edge validator,
/// the cached authenticator and an equivalently configured <see cref="JsonWebTokenHandler"/> over them.
/// </summary>
internal sealed class TokenFixture
{
    public const string IssuerName = "https://id.authio.test/";
    public const string Audience = "https://api.authio.test";
    public const string EcKid = "ec-2026-11";
    public const string RsaKid = "rsa-2026-11";
    public const string HmacKid = "hs-2026-11";
    public const string Secret = "bench-shared-secret-0123456789-abcdefghijklmnop"; // 47 bytes >= 32

    public static readonly string[] Algorithms = ["ES256", "RS256", "HS256"];

    private static TokenFixture? _shared;
    public static TokenFixture Shared => _shared ??= new TokenFixture();

    public readonly ECDsa EcPrivate = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public readonly RSA RsaPrivate = RSA.Create(2048);
    public readonly byte[] SecretBytes = Encoding.UTF8.GetBytes(Secret);

    /// <summary>Public-only key objects, as a verifier holds them (imported from parameters like the edge does).</summary>
    public readonly ECDsa EcPublic;
    public readonly RSA RsaPublic;

    public readonly IssuerRegistry Registry;
    public readonly JwtValidator Validator;
    public readonly EdgeAuthenticator Authenticator;
    public readonly JsonWebTokenHandler MsHandler = new();
    public readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    public TokenFixture()
    {
        EcPublic = ECDsa.Create(EcPrivate.ExportParameters(false));
        RsaPublic = RSA.Create(RsaPrivate.ExportParameters(false));

        var issuer = new TrustedIssuer(new IssuerOptions
        {
            Issuer = IssuerName,
            Audiences = [Audience],
            JwksUri = "x",
            Algorithms = ["ES256", "RS256", "HS256"],
            SharedSecret = Secret,
        });
        Registry = new IssuerRegistry([issuer]);
        if (!JwksParser.TryParse(Encoding.UTF8.GetBytes(JwksJson()), issuer, out var keys, out var error))
        {
            throw new InvalidOperationException("JWKS refused: " + error);
        }
        Registry.Publish(issuer, new KeySet(keys, Now));
        Validator = new JwtValidator(Registry, TimeProvider.System, new EdgeTokenOptions());
        var meterFactory = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        Authenticator = new EdgeAuthenticator(
            Validator,
            new TokenCache(100_000),
            new FailureBudget(new FailureBudgetOptions(), TimeProvider.System),
            new NoRevocations(),
            new EdgeMetrics(meterFactory, Registry, TimeProvider.System),
            TimeProvider.System);
    }

    public string JwksJson()
    {
        var ec = EcPrivate.ExportParameters(false);
        var rsa = RsaPrivate.ExportParameters(false);
        return JsonSerializer.Serialize(new
        {
            keys = new object[]
            {
                new { kty = "EC", crv = "P-256", use = "sig", alg = "ES256", kid = EcKid, x = B64(ec.Q.X!), y = B64(ec.Q.Y!) },
                new { kty = "RSA", use = "sig", alg = "RS256", kid = RsaKid, n = B64(rsa.Modulus!), e = B64(rsa.Exponent!) },
            },
        });
    }

    /// <summary>A realistic access token: RFC 9068 typ, kid, 10 claims, three scopes.</summary>
    public string Mint(string alg, DateTimeOffset? issuedAt = null, TimeSpan? lifetime = null, string jti = "0b6f2d6c4e9a4f0f8c1d2e3f4a5b6c7d")
    {
        var now = issuedAt ?? Now;
        var kid = alg switch { "ES256" => EcKid, "RS256" => RsaKid, _ => HmacKid };
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["alg"] = alg, ["typ"] = "at+jwt", ["kid"] = kid });
        var payload = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = IssuerName,
            ["aud"] = Audience,
            ["sub"] = "user_2f9c1b7e4a8d",
            ["org"] = "org_acme",
            ["sid"] = "sess_7d1e0c5b9a3f",
            ["jti"] = jti,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = (now + (lifetime ?? TimeSpan.FromHours(1))).ToUnixTimeSeconds(),
            ["scope"] = "read:applications write:applications read:users",
        });
        var signingInput = B64(header) + "." + B64(payload);
        var data = Encoding.ASCII.GetBytes(signingInput);
        var signature = alg switch
        {
            "ES256" => EcPrivate.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            "RS256" => RsaPrivate.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            "HS256" => HMACSHA256.HashData(SecretBytes, data),
            _ => throw new ArgumentOutOfRangeException(nameof(alg)),
        };
        return signingInput + "." + B64(signature);
    }

    /// <summary>The same token with one signature bit flipped (still well-formed base64url of the right length).</summary>
    public static string TamperSignature(string token)
    {
        var dot = token.LastIndexOf('.');
        var signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        signature[signature.Length / 2] ^= 0x01;
        return token[..(dot + 1)] + B64(signature);
    }

    /// <summary>
    /// Validation parameters a user would write for the same policy: one issuer, one audience, the key, lifetime
    /// with the same 30 s skew, the algorithm and the at+jwt type pinned. Built once and reused (as an app does),
    /// so the handler's CryptoProviderFactory signature-provider cache is warm after the first call.
    /// </summary>
    public TokenValidationParameters MsParameters(string alg) => new()
    {
        ValidIssuer = IssuerName,
        ValidAudience = Audience,
        IssuerSigningKey = alg switch
        {
            "ES256" => new ECDsaSecurityKey(EcPublic) { KeyId = EcKid },
            "RS256" => new RsaSecurityKey(RsaPublic) { KeyId = RsaKid },
            _ => new SymmetricSecurityKey(SecretBytes) { KeyId = HmacKid },
        },
        ValidAlgorithms = [alg],
        ValidTypes = ["at+jwt"],
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        RequireExpirationTime = true,
        ValidateIssuerSigningKey = false,
        ClockSkew = TimeSpan.FromSeconds(30),
    };

    public static string B64(ReadOnlySpan<byte> bytes) => Base64Url.EncodeToString(bytes);
}

/// <summary>Pre-computed pieces of one token for the raw cryptographic floor.</summary>
internal sealed class RawPieces
{
    public RawPieces(string token)
    {
        var dot = token.LastIndexOf('.');
        SigningInput = Encoding.ASCII.GetBytes(token[..dot]);
        Signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
    }

    public byte[] SigningInput { get; }
    public byte[] Signature { get; }
}
