using System.Security.Cryptography;

namespace Authio.EdgeProxy.Keys;

internal enum KeyFamily { Ec, Rsa, Hmac }

/// <summary>A JWS algorithm the edge implements. Anything else — <c>none</c> in any spelling included — is never accepted.</summary>
internal sealed class JwsAlgorithm
{
    private JwsAlgorithm(string name, KeyFamily family, HashAlgorithmName hash, int hashSize, string? curve, RSASignaturePadding? padding)
    {
        Name = name;
        Utf8Name = System.Text.Encoding.ASCII.GetBytes(name);
        Family = family;
        Hash = hash;
        HashSize = hashSize;
        Curve = curve;
        Padding = padding;
    }

    public string Name { get; }
    public byte[] Utf8Name { get; }
    public KeyFamily Family { get; }
    public HashAlgorithmName Hash { get; }
    public int HashSize { get; }
    /// <summary>The JWK <c>crv</c> an EC algorithm is bound to (RFC 7518 §3.4).</summary>
    public string? Curve { get; }
    public RSASignaturePadding? Padding { get; }

    public static readonly JwsAlgorithm ES256 = new("ES256", KeyFamily.Ec, HashAlgorithmName.SHA256, 32, "P-256", null);
    public static readonly JwsAlgorithm ES384 = new("ES384", KeyFamily.Ec, HashAlgorithmName.SHA384, 48, "P-384", null);
    public static readonly JwsAlgorithm ES512 = new("ES512", KeyFamily.Ec, HashAlgorithmName.SHA512, 64, "P-521", null);
    public static readonly JwsAlgorithm RS256 = new("RS256", KeyFamily.Rsa, HashAlgorithmName.SHA256, 32, null, RSASignaturePadding.Pkcs1);
    public static readonly JwsAlgorithm RS384 = new("RS384", KeyFamily.Rsa, HashAlgorithmName.SHA384, 48, null, RSASignaturePadding.Pkcs1);
    public static readonly JwsAlgorithm RS512 = new("RS512", KeyFamily.Rsa, HashAlgorithmName.SHA512, 64, null, RSASignaturePadding.Pkcs1);
    public static readonly JwsAlgorithm PS256 = new("PS256", KeyFamily.Rsa, HashAlgorithmName.SHA256, 32, null, RSASignaturePadding.Pss);
    public static readonly JwsAlgorithm PS384 = new("PS384", KeyFamily.Rsa, HashAlgorithmName.SHA384, 48, null, RSASignaturePadding.Pss);
    public static readonly JwsAlgorithm PS512 = new("PS512", KeyFamily.Rsa, HashAlgorithmName.SHA512, 64, null, RSASignaturePadding.Pss);
    public static readonly JwsAlgorithm HS256 = new("HS256", KeyFamily.Hmac, HashAlgorithmName.SHA256, 32, null, null);

    public static readonly JwsAlgorithm[] All = [ES256, ES384, ES512, RS256, RS384, RS512, PS256, PS384, PS512, HS256];

    public static JwsAlgorithm? FromName(string? name)
    {
        foreach (var alg in All)
        {
            if (string.Equals(alg.Name, name, StringComparison.Ordinal))
            {
                return alg;
            }
        }
        return null;
    }

    public static JwsAlgorithm? FromUtf8(ReadOnlySpan<byte> name)
    {
        foreach (var alg in All)
        {
            if (name.SequenceEqual(alg.Utf8Name))
            {
                return alg;
            }
        }
        return null;
    }

    public void ComputeHash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (HashSize == 32)
        {
            SHA256.HashData(data, destination);
        }
        else if (HashSize == 48)
        {
            SHA384.HashData(data, destination);
        }
        else
        {
            SHA512.HashData(data, destination);
        }
    }

    public override string ToString() => Name;
}
