using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Authio.EdgeProxy.Keys;

/// <summary>
/// A verification key of one trusted issuer. Immutable once published; when its <c>kid</c> leaves the issuer's
/// JWKS it is marked <see cref="Retired"/> so cached tokens it signed stop validating at once.
/// </summary>
internal abstract class SigningKey
{
    private volatile bool _retired;

    protected SigningKey(string? kid, JwsAlgorithm? pinnedAlgorithm, TrustedIssuer issuer, string? org = null)
    {
        Kid = kid;
        KidUtf8 = kid is null ? [] : System.Text.Encoding.UTF8.GetBytes(kid);
        PinnedAlgorithm = pinnedAlgorithm;
        Issuer = issuer;
        Org = org;
        OrgUtf8 = org is null ? null : System.Text.Encoding.UTF8.GetBytes(org);
    }

    public string? Kid { get; }
    public byte[] KidUtf8 { get; }
    /// <summary>
    /// The org whose tokens this key may sign (the JWK's <c>org</c> member): a token it verifies must carry exactly this
    /// <c>org</c> claim. Null for keys without one (operator-configured issuers, legacy control-plane keys).
    /// </summary>
    public string? Org { get; }
    /// <summary><see cref="Org"/> as UTF-8, precomputed for the allocation-free comparison on the request path.</summary>
    public byte[]? OrgUtf8 { get; }
    /// <summary>The JWK's own <c>alg</c>, when it has one: tokens must then use exactly that.</summary>
    public JwsAlgorithm? PinnedAlgorithm { get; }
    public TrustedIssuer Issuer { get; }
    public bool Retired => _retired;

    public void Retire() => _retired = true;

    /// <summary>Whether this key may verify <paramref name="alg"/>: family, curve and pinned alg must all agree (RFC 8725 §3.1).</summary>
    public abstract bool Accepts(JwsAlgorithm alg);

    /// <summary>Verifies <paramref name="signature"/> over <paramref name="signingInput"/> (the ASCII "header.payload").</summary>
    public abstract bool Verify(JwsAlgorithm alg, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature);

    /// <summary>Same key material and parameters: a refreshed JWKS that repeats a key keeps the old instance (and its cache entries).</summary>
    public abstract bool SameAs(SigningKey other);
}

internal sealed class EcSigningKey : SigningKey
{
    private readonly ECDsa _ecdsa;
    private readonly byte[] _x;
    private readonly byte[] _y;

    public EcSigningKey(string? kid, JwsAlgorithm? pinned, TrustedIssuer issuer, string curve, byte[] x, byte[] y, string? org = null)
        : base(kid, pinned, issuer, org)
    {
        Curve = curve;
        _x = x;
        _y = y;
        var oid = curve switch
        {
            "P-256" => ECCurve.NamedCurves.nistP256,
            "P-384" => ECCurve.NamedCurves.nistP384,
            "P-521" => ECCurve.NamedCurves.nistP521,
            _ => throw new ArgumentException("Unsupported curve.", nameof(curve)),
        };
        // ImportParameters validates the point is on the curve; an invalid point throws and the set is refused.
        _ecdsa = ECDsa.Create(new ECParameters { Curve = oid, Q = new ECPoint { X = x, Y = y } });
        FieldSize = (_ecdsa.KeySize + 7) / 8;
    }

    public string Curve { get; }
    public int FieldSize { get; }

    public override bool Accepts(JwsAlgorithm alg) =>
        alg.Family == KeyFamily.Ec && alg.Curve == Curve && (PinnedAlgorithm is null || PinnedAlgorithm == alg);

    [SkipLocalsInit]
    public override bool Verify(JwsAlgorithm alg, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        // JWS ECDSA signatures are raw r||s of exactly two field sizes (RFC 7518 §3.4); DER is not accepted.
        if (signature.Length != 2 * FieldSize || IsZero(signature[..FieldSize]) || IsZero(signature[FieldSize..]))
        {
            return false;
        }
        Span<byte> hash = stackalloc byte[64];
        hash = hash[..alg.HashSize];
        alg.ComputeHash(signingInput, hash);
        return _ecdsa.VerifyHash(hash, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    private static bool IsZero(ReadOnlySpan<byte> value) => value.IndexOfAnyExcept((byte)0) < 0;

    public override bool SameAs(SigningKey other) =>
        other is EcSigningKey ec && ec.Kid == Kid && ec.Org == Org && ec.PinnedAlgorithm == PinnedAlgorithm && ec.Curve == Curve
        && ec._x.AsSpan().SequenceEqual(_x) && ec._y.AsSpan().SequenceEqual(_y);
}

internal sealed class RsaSigningKey : SigningKey
{
    public const int MinimumBits = 2048;
    private readonly RSA _rsa;
    private readonly byte[] _n;
    private readonly byte[] _e;

    public RsaSigningKey(string? kid, JwsAlgorithm? pinned, TrustedIssuer issuer, byte[] n, byte[] e, string? org = null)
        : base(kid, pinned, issuer, org)
    {
        _n = n;
        _e = e;
        _rsa = RSA.Create(new RSAParameters { Modulus = n, Exponent = e });
        ModulusBytes = (_rsa.KeySize + 7) / 8;
    }

    public int ModulusBytes { get; }

    public override bool Accepts(JwsAlgorithm alg) =>
        alg.Family == KeyFamily.Rsa && (PinnedAlgorithm is null || PinnedAlgorithm == alg);

    public override bool Verify(JwsAlgorithm alg, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != ModulusBytes)
        {
            return false;
        }
        Span<byte> hash = stackalloc byte[64];
        hash = hash[..alg.HashSize];
        alg.ComputeHash(signingInput, hash);
        return _rsa.VerifyHash(hash, signature, alg.Hash, alg.Padding!);
    }

    public override bool SameAs(SigningKey other) =>
        other is RsaSigningKey rsa && rsa.Kid == Kid && rsa.Org == Org && rsa.PinnedAlgorithm == PinnedAlgorithm
        && rsa._n.AsSpan().SequenceEqual(_n) && rsa._e.AsSpan().SequenceEqual(_e);
}

/// <summary>An issuer's HS256 shared secret. Never comes from a JWKS: only from <c>Edge:Issuers:N:SharedSecret</c>.</summary>
internal sealed class HmacSigningKey : SigningKey
{
    private readonly byte[] _secret;

    public HmacSigningKey(TrustedIssuer issuer, byte[] secret) : base(null, JwsAlgorithm.HS256, issuer) => _secret = secret;

    public override bool Accepts(JwsAlgorithm alg) => alg == JwsAlgorithm.HS256;

    public override bool Verify(JwsAlgorithm alg, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != 32)
        {
            return false;
        }
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_secret, signingInput, mac);
        return CryptographicOperations.FixedTimeEquals(mac, signature);
    }

    public override bool SameAs(SigningKey other) => ReferenceEquals(this, other);
}
