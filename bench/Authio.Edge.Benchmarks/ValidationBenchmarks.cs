using System.Security.Cryptography;
using System.Text;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Tokens;
using BenchmarkDotNet.Attributes;
using Microsoft.IdentityModel.Tokens;

namespace Authio.Edge.Benchmarks;

/// <summary>
/// One valid access token per algorithm through: the raw crypto floor (hash + verify, baseline), the edge validator
/// with no cache, the edge's cached path (a hit), the cached path as the middleware calls it (UTF-16 header value),
/// and Microsoft.IdentityModel's JsonWebTokenHandler configured the way an application would.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByParams)]
public class ValidationBenchmarks
{
    private TokenFixture _f = null!;
    private byte[] _token = null!;
    private string _tokenString = null!;
    private byte[] _payload = null!;
    private RawPieces _raw = null!;
    private TokenValidationParameters _ms = null!;

    [Params("ES256", "RS256", "HS256")]
    public string Alg { get; set; } = "ES256";

    [GlobalSetup]
    public void Setup()
    {
        _f = TokenFixture.Shared;
        _tokenString = _f.Mint(Alg);
        _token = Encoding.ASCII.GetBytes(_tokenString);
        _payload = new byte[JwtValidator.PayloadBufferSize(_token.Length)];
        _raw = new RawPieces(_tokenString);
        _ms = _f.MsParameters(Alg);

        // Sanity: every path must accept the token, and the cache must hold it before the cached benchmarks run.
        if (!RawVerify())
        {
            throw new InvalidOperationException("raw verify failed");
        }

        if (!EdgeCold())
        {
            throw new InvalidOperationException("edge cold failed");
        }

        if (!_f.Authenticator.TryAuthenticate(_token.AsSpan(), null, out _, out var error))
        {
            throw new InvalidOperationException("edge auth failed: " + error);
        }

        if (!EdgeCachedUtf16())
        {
            throw new InvalidOperationException("edge cached (utf16) failed");
        }

        var result = MsValidate().GetAwaiter().GetResult();
        if (!result.IsValid)
        {
            throw new InvalidOperationException("JsonWebTokenHandler failed: " + result.Exception);
        }
    }

    [Benchmark(Baseline = true, Description = "Raw hash+verify (floor)")]
    public bool RawVerify() => Alg switch
    {
        "ES256" => RawEs256(_f.EcPublic, _raw.SigningInput, _raw.Signature),
        "RS256" => RawRs256(_f.RsaPublic, _raw.SigningInput, _raw.Signature),
        _ => RawHs256(_f.SecretBytes, _raw.SigningInput, _raw.Signature),
    };

    [Benchmark(Description = "Edge JwtValidator.TryValidate (cold, no cache)")]
    public bool EdgeCold() => _f.Validator.TryValidate(_token, _payload, out _, out _);

    [Benchmark(Description = "Edge TryAuthenticate(bytes) cache hit")]
    public bool EdgeCached() => _f.Authenticator.TryAuthenticate(_token.AsSpan(), null, out _, out _);

    [Benchmark(Description = "Edge TryAuthenticate(chars) cache hit (middleware path)")]
    public bool EdgeCachedUtf16() => _f.Authenticator.TryAuthenticate(_tokenString.AsSpan(), null, out _, out EdgeError? _);

    [Benchmark(Description = "JsonWebTokenHandler.ValidateTokenAsync")]
    public Task<TokenValidationResult> MsValidate() => _f.MsHandler.ValidateTokenAsync(_tokenString, _ms);

    internal static bool RawEs256(ECDsa key, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(signingInput, hash);
        return key.VerifyHash(hash, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    internal static bool RawRs256(RSA key, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(signingInput, hash);
        return key.VerifyHash(hash, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    internal static bool RawHs256(byte[] secret, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(secret, signingInput, mac);
        return CryptographicOperations.FixedTimeEquals(mac, signature);
    }
}

/// <summary>Rejections: a tampered signature (full verify, then refusal) and a malformed token (refused before any crypto).</summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByParams)]
public class RejectedTokenBenchmarks
{
    private TokenFixture _f = null!;
    private byte[] _badSignature = null!;
    private string _badSignatureString = null!;
    private byte[] _payload = null!;
    private TokenValidationParameters _ms = null!;

    [Params("ES256", "RS256", "HS256")]
    public string Alg { get; set; } = "ES256";

    [GlobalSetup]
    public void Setup()
    {
        _f = TokenFixture.Shared;
        _badSignatureString = TokenFixture.TamperSignature(_f.Mint(Alg));
        _badSignature = Encoding.ASCII.GetBytes(_badSignatureString);
        _payload = new byte[JwtValidator.PayloadBufferSize(_badSignature.Length)];
        _ms = _f.MsParameters(Alg);
        if (_f.Validator.TryValidate(_badSignature, _payload, out _, out var error) || !ReferenceEquals(error, EdgeError.BadSignature))
        {
            throw new InvalidOperationException("expected bad_signature, got " + error);
        }
        if (MsBadSignature().GetAwaiter().GetResult().IsValid)
        {
            throw new InvalidOperationException("JsonWebTokenHandler accepted a tampered token");
        }
    }

    [Benchmark(Description = "Edge TryValidate: bad signature")]
    public bool EdgeBadSignature() => _f.Validator.TryValidate(_badSignature, _payload, out _, out _);

    [Benchmark(Description = "JsonWebTokenHandler: bad signature")]
    public Task<TokenValidationResult> MsBadSignature() => _f.MsHandler.ValidateTokenAsync(_badSignatureString, _ms);
}

/// <summary>A token that is not a compact JWS at all (bad base64url in the payload): refused before any crypto.</summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class MalformedTokenBenchmarks
{
    private const string MalformedString = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.not*base64url.c2lnbmF0dXJl";
    private static readonly byte[] Malformed = Encoding.ASCII.GetBytes(MalformedString);
    private TokenFixture _f = null!;
    private byte[] _payload = null!;
    private TokenValidationParameters _ms = null!;

    [GlobalSetup]
    public void Setup()
    {
        _f = TokenFixture.Shared;
        _payload = new byte[JwtValidator.PayloadBufferSize(Malformed.Length)];
        _ms = _f.MsParameters("ES256");
        if (EdgeMalformed() || MsMalformed().GetAwaiter().GetResult().IsValid)
        {
            throw new InvalidOperationException("malformed token accepted");
        }
    }

    [Benchmark(Baseline = true, Description = "Edge TryValidate: malformed")]
    public bool EdgeMalformed() => _f.Validator.TryValidate(Malformed, _payload, out _, out _);

    [Benchmark(Description = "JsonWebTokenHandler: malformed")]
    public Task<TokenValidationResult> MsMalformed() => _f.MsHandler.ValidateTokenAsync(MalformedString, _ms);
}
