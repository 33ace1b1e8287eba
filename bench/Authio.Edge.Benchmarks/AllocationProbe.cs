using System.Security.Cryptography;
using System.Text;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Tokens;

namespace Authio.Edge.Benchmarks;

/// <summary>
/// `alloc` mode: bytes allocated per call (GC.GetAllocatedBytesForCurrentThread around 20 000 warmed calls) for each
/// path and for each step of the cold path, so an allocation seen in the benchmark table can be pinned to a step.
/// </summary>
internal static class AllocationProbe
{
    private const int Warmup = 2_000;
    private const int Calls = 20_000;

    public static void Run()
    {
        var f = TokenFixture.Shared;
        Console.WriteLine($"{"alg",-6} {"step",-58} {"B/call",8}");
        foreach (var alg in TokenFixture.Algorithms)
        {
            var tokenString = f.Mint(alg);
            var token = Encoding.ASCII.GetBytes(tokenString);
            var payload = new byte[JwtValidator.PayloadBufferSize(token.Length)];
            var raw = new RawPieces(tokenString);
            var jwsAlg = JwsAlgorithm.FromName(alg)!;
            SigningKey key = alg switch
            {
                "HS256" => f.Registry.Issuers[0].Hmac!,
                _ => Array.Find(f.Registry.Index.Asymmetric, k => k.Kid == (alg == "ES256" ? TokenFixture.EcKid : TokenFixture.RsaKid))!,
            };
            f.Authenticator.TryAuthenticate(token.AsSpan(), null, out _, out _); // fill the cache

            var segments = tokenString.Split('.');
            var header = Encoding.ASCII.GetBytes(segments[0]);
            var body = Encoding.ASCII.GetBytes(segments[1]);
            var signature = Encoding.ASCII.GetBytes(segments[2]);
            var scratch = new byte[token.Length];
            var hash = new byte[32];

            Report(alg, "edge JwtValidator.TryValidate (cold)", () => f.Validator.TryValidate(token, payload, out _, out _));
            Report(alg, "edge TryAuthenticate(bytes) cache hit", () => f.Authenticator.TryAuthenticate(token.AsSpan(), null, out _, out _));
            Report(alg, "edge TryAuthenticate(chars) cache hit", () => f.Authenticator.TryAuthenticate(tokenString.AsSpan(), null, out _, out _));
            Report(alg, "  step: Base64UrlStrict.TryDecode x3 segments", () =>
                Base64UrlStrict.TryDecode(header, scratch, out _) & Base64UrlStrict.TryDecode(body, scratch, out _) & Base64UrlStrict.TryDecode(signature, scratch, out _));
            Report(alg, "  step: JwsAlgorithm.ComputeHash (SHA-256 of input)", () => { jwsAlg.ComputeHash(raw.SigningInput, hash); return true; });
            Report(alg, $"  step: {key.GetType().Name}.Verify (hash+verify)", () => key.Verify(jwsAlg, raw.SigningInput, raw.Signature));
            Report(alg, "  raw floor: hash + VerifyHash / HMAC+FixedTimeEquals", alg switch
            {
                "ES256" => () => ValidationBenchmarks.RawEs256(f.EcPublic, raw.SigningInput, raw.Signature),
                "RS256" => () => ValidationBenchmarks.RawRs256(f.RsaPublic, raw.SigningInput, raw.Signature),
                _ => () => ValidationBenchmarks.RawHs256(f.SecretBytes, raw.SigningInput, raw.Signature),
            });
            if (alg == "ES256")
            {
                SHA256.HashData(raw.SigningInput, hash);
                Report(alg, "  raw: ECDsa.VerifyHash only (IeeeP1363)", () => f.EcPublic.VerifyHash(hash, raw.Signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
            }
            if (alg == "RS256")
            {
                SHA256.HashData(raw.SigningInput, hash);
                Report(alg, "  raw: RSA.VerifyHash only (PKCS#1 v1.5)", () => f.RsaPublic.VerifyHash(hash, raw.Signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
            }
        }
    }

    private static void Report(string alg, string step, Func<bool> call)
    {
        for (var i = 0; i < Warmup; i++)
        {
            call();
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Calls; i++)
        {
            call();
        }
        var perCall = (double)(GC.GetAllocatedBytesForCurrentThread() - before) / Calls;
        Console.WriteLine($"{alg,-6} {step,-58} {perCall,8:F1}");
    }
}
