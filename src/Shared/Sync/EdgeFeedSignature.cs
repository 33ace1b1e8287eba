using System.Buffers.Text;
using System.Security.Cryptography;

namespace Authio.Shared.Sync;

/// <summary>
/// The one format of a change-feed signature, shared by the control plane (signs) and the edge (verifies): ECDSA P-256
/// with SHA-256 over the exact UTF-8 bytes of the stream entry's <c>change</c> field, IEEE P1363 (r‖s, 64 bytes),
/// base64url without padding. A key's id is the base64url SHA-256 of its SubjectPublicKeyInfo, first 16 bytes.
/// </summary>
public static class EdgeFeedSignature
{
    public const string Algorithm = "ES256";
    private const int SignatureSize = 64;

    public static string KeyIdOf(ReadOnlySpan<byte> subjectPublicKeyInfo) => Base64Url.EncodeToString(SHA256.HashData(subjectPublicKeyInfo).AsSpan(0, 16));

    /// <summary>The public half of <paramref name="key"/> as the snapshot carries it.</summary>
    public static EdgeFeedKey PublicKeyOf(ECDsa key)
    {
        var spki = key.ExportSubjectPublicKeyInfo();
        return new EdgeFeedKey(KeyIdOf(spki), Algorithm, Convert.ToBase64String(spki));
    }

    public static string Sign(ECDsa key, ReadOnlySpan<byte> change) =>
        Base64Url.EncodeToString(key.SignData(change, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));

    /// <summary>False for anything but a well-formed, valid signature of <paramref name="change"/> by <paramref name="key"/>.</summary>
    public static bool Verify(ECDsa key, ReadOnlySpan<byte> change, ReadOnlySpan<char> signature)
    {
        Span<byte> raw = stackalloc byte[SignatureSize + 3];
        if (signature.Length != Base64Url.GetEncodedLength(SignatureSize)
            || !Base64Url.TryDecodeFromChars(signature, raw, out var written) || written != SignatureSize)
        {
            return false;
        }
        return key.VerifyData(change, raw[..SignatureSize], HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>
    /// The verifying key of an <see cref="EdgeFeedKey"/>, or null when it is not an ES256 P-256 key whose id matches its
    /// bytes (the edge then trusts no signed-only change from Redis).
    /// </summary>
    public static ECDsa? Import(EdgeFeedKey feedKey)
    {
        if (feedKey.Algorithm != Algorithm)
        {
            return null;
        }
        byte[] spki;
        try
        {
            spki = Convert.FromBase64String(feedKey.PublicKey);
        }
        catch (FormatException)
        {
            return null;
        }
        if (KeyIdOf(spki) != feedKey.Kid)
        {
            return null;
        }
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(spki, out var read);
            if (read == spki.Length && key.KeySize == 256 && key.ExportParameters(false).Curve.Oid.Value == ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                return key;
            }
        }
        catch (CryptographicException)
        {
        }
        key.Dispose();
        return null;
    }
}
