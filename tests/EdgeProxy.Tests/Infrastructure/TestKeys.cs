using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Authio.EdgeProxy.Tests.Infrastructure;

/// <summary>A signing key the tests control, with its public JWK.</summary>
public sealed class TestKey
{
    private TestKey(string kid, string alg, ECDsa? ec, RSA? rsa)
    {
        Kid = kid;
        Alg = alg;
        Ec = ec;
        Rsa = rsa;
    }

    public string Kid { get; }
    public string Alg { get; }
    public ECDsa? Ec { get; }
    public RSA? Rsa { get; }

    public static TestKey Es256(string kid) => new(kid, "ES256", ECDsa.Create(ECCurve.NamedCurves.nistP256), null);
    public static TestKey Es384(string kid) => new(kid, "ES384", ECDsa.Create(ECCurve.NamedCurves.nistP384), null);
    public static TestKey Rs256(string kid, int bits = 2048) => new(kid, "RS256", null, RSA.Create(bits));
    public static TestKey Ps256(string kid) => new(kid, "PS256", null, RSA.Create(2048));

    public Dictionary<string, object> PublicJwk(bool includeAlg = true)
    {
        var jwk = new Dictionary<string, object> { ["kid"] = Kid, ["use"] = "sig" };
        if (includeAlg)
        {
            jwk["alg"] = Alg;
        }
        if (Ec is not null)
        {
            var p = Ec.ExportParameters(false);
            jwk["kty"] = "EC";
            jwk["crv"] = Alg == "ES256" ? "P-256" : "P-384";
            jwk["x"] = Base64Url.EncodeToString(p.Q.X);
            jwk["y"] = Base64Url.EncodeToString(p.Q.Y);
        }
        else
        {
            var p = Rsa!.ExportParameters(false);
            jwk["kty"] = "RSA";
            jwk["n"] = Base64Url.EncodeToString(p.Modulus);
            jwk["e"] = Base64Url.EncodeToString(p.Exponent);
        }
        return jwk;
    }

    public byte[] Sign(string alg, byte[] input) => alg switch
    {
        "ES256" => Ec!.SignData(input, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        "ES384" => Ec!.SignData(input, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        "RS256" => Rsa!.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        "PS256" => Rsa!.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
        _ => throw new ArgumentException(alg),
    };

    public static string Jwks(params TestKey[] keys) =>
        JsonSerializer.Serialize(new { keys = keys.Select(k => k.PublicJwk()).ToArray() });
}

/// <summary>Builds tokens byte by byte, including malformed ones the edge must reject.</summary>
public static class Jwt
{
    public const string Issuer = "https://issuer.test";
    public const string Audience = "api://edge-tests";

    public static string B64(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
    public static string B64(byte[] bytes) => Base64Url.EncodeToString(bytes);

    public static byte[] B64Decode(string segment) => Base64Url.DecodeFromChars(segment);

    public static string Header(TestKey key, string? typ = "at+jwt") =>
        typ is null ? $"{{\"alg\":\"{key.Alg}\",\"kid\":\"{key.Kid}\"}}" : $"{{\"alg\":\"{key.Alg}\",\"kid\":\"{key.Kid}\",\"typ\":\"{typ}\"}}";

    public static string Claims(DateTimeOffset now, string sub = "user_1", string org = "org_1", string scope = "read:things",
        long? exp = null, string? extra = null, string iss = Issuer, string aud = $"\"{Audience}\"")
    {
        var e = exp ?? now.AddMinutes(15).ToUnixTimeSeconds();
        var tail = extra is null ? "" : "," + extra;
        return $"{{\"iss\":\"{iss}\",\"aud\":{aud},\"sub\":\"{sub}\",\"org\":\"{org}\",\"sid\":\"sess_1\",\"jti\":\"{Guid.NewGuid():N}\",\"scope\":\"{scope}\",\"iat\":{now.ToUnixTimeSeconds()},\"nbf\":{now.ToUnixTimeSeconds()},\"exp\":{e}{tail}}}";
    }

    /// <summary>Signs raw header and payload JSON exactly as given.</summary>
    public static string Sign(TestKey key, string headerJson, string payloadJson, string? alg = null)
    {
        var input = B64(headerJson) + "." + B64(payloadJson);
        return input + "." + B64(key.Sign(alg ?? key.Alg, Encoding.ASCII.GetBytes(input)));
    }

    public static string Mint(TestKey key, DateTimeOffset now, string sub = "user_1", string org = "org_1", string scope = "read:things") =>
        Sign(key, Header(key), Claims(now, sub, org, scope));

    public static string Hs256(byte[] secret, string headerJson, string payloadJson)
    {
        var input = B64(headerJson) + "." + B64(payloadJson);
        return input + "." + B64(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)));
    }
}
