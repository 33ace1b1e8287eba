using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Tokens;

namespace Authio.Fuzz;

/// <summary>
/// Fixed keys, so the corpus's signed tokens and feed entries stay valid from one run (and machine) to the next. Fuzzing
/// fixtures only: nothing outside tests/fuzz trusts them.
/// </summary>
internal static class FuzzKeys
{
    public const string Issuer = "https://issuer.fuzz";
    public const string Audience = "api://fuzz";
    public const string EcKid = "fuzz-es256";

    /// <summary>Corpus tokens are valid at this instant (2026-01-01T00:00:00Z); the harness's clock stands still there.</summary>
    public static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_767_225_600);

    public static readonly byte[] HmacSecret = Encoding.ASCII.GetBytes("fuzz-hs256-secret-of-at-least-32-bytes!");

    /// <summary>A P-256 key from a fixed private scalar: the public point is derived from it.</summary>
    public static readonly ECDsa Ec = CreateEc();

    /// <summary>The change feed's signing key, likewise fixed.</summary>
    public static readonly ECDsa Feed = CreateEc(0x5A);

    private static ECDsa CreateEc(byte fill = 0x2A)
    {
        var d = new byte[32];
        d.AsSpan().Fill(fill);
        d[0] = 0x01; // below the group order whatever the fill
        return ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d });
    }

    public static string EcJwks()
    {
        var p = Ec.ExportParameters(false);
        return $$"""{"keys":[{"kty":"EC","crv":"P-256","kid":"{{EcKid}}","use":"sig","alg":"ES256","x":"{{Base64Url.EncodeToString(p.Q.X)}}","y":"{{Base64Url.EncodeToString(p.Q.Y)}}"}]}""";
    }

    /// <summary>A validator trusting an ES256 issuer (JWKS) and an HS256 issuer (shared secret), both with the same name.</summary>
    public static JwtValidator Validator()
    {
        var es = new TrustedIssuer(new IssuerOptions { Issuer = Issuer, Audiences = [Audience], JwksUri = "fuzz", Algorithms = ["ES256"] });
        var hs = new TrustedIssuer(new IssuerOptions
        {
            Name = "hs", Issuer = Issuer + "/hs", Audiences = [Audience], Algorithms = ["HS256"],
            SharedSecret = TrustedIssuer.Base64SecretPrefix + Convert.ToBase64String(HmacSecret),
        });
        var registry = new IssuerRegistry([es, hs]);
        if (!JwksParser.TryParse(Encoding.UTF8.GetBytes(EcJwks()), es, out var keys, out var error))
        {
            throw new InvalidOperationException("fuzz JWKS refused: " + error);
        }
        registry.Publish(es, new KeySet(keys, Now));
        return new JwtValidator(registry, new FixedTime(Now), new EdgeTokenOptions());
    }

    public static string B64(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));

    public static string SignEs256(string header, string payload)
    {
        var input = B64(header) + "." + B64(payload);
        return input + "." + Base64Url.EncodeToString(Ec.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    public static string SignHs256(string header, string payload)
    {
        var input = B64(header) + "." + B64(payload);
        return input + "." + Base64Url.EncodeToString(HMACSHA256.HashData(HmacSecret, Encoding.ASCII.GetBytes(input)));
    }
}

/// <summary>A clock that stands still: the same input always gets the same verdict.</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
