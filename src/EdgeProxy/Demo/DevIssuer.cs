using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Authio.EdgeProxy.Demo;

/// <summary>A throwaway local ES256 issuer for the demo: one in-memory key, a JWKS file, and tokens minted on request.</summary>
internal sealed class DevIssuer : IDisposable
{
    public const string IssuerName = "http://localhost/dev-issuer";
    /// <summary>How demo routes name this issuer in <c>Authio.Issuers</c>.</summary>
    public const string RouteName = "dev";
    public const string Audience = "demo-api";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public string Kid { get; } = "dev-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();

    public string JwksJson()
    {
        var p = _key.ExportParameters(false);
        return JsonSerializer.Serialize(new
        {
            keys = new[]
            {
                new { kty = "EC", crv = "P-256", use = "sig", alg = "ES256", kid = Kid, x = Base64Url.EncodeToString(p.Q.X), y = Base64Url.EncodeToString(p.Q.Y) },
            },
        });
    }

    public string Mint(string subject, string org, string scope, DateTimeOffset now, TimeSpan lifetime)
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(new { alg = "ES256", typ = "at+jwt", kid = Kid });
        var payload = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = IssuerName,
            ["aud"] = Audience,
            ["sub"] = subject,
            ["org"] = org,
            ["scope"] = scope,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = (now + lifetime).ToUnixTimeSeconds(),
        });
        var signingInput = Base64Url.EncodeToString(header) + "." + Base64Url.EncodeToString(payload);
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    public void Dispose() => _key.Dispose();
}
