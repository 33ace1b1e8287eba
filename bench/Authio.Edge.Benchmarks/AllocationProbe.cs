using System.Security.Cryptography;
using System.Text;
using Authio.EdgeProxy.Keys;
using Authio.EdgeProxy.Tokens;

namespace Authio.Edge.Benchmarks;

/// <summary>
/// `alloc` mode: bytes allocated per call (GC.GetAllocatedBytesForCurrentThread around 20 000 warmed calls) for each
/// path and for each step of the cold path, so an allocation seen in the benchmark table can be pinned to a step.
/// It also prints a contention-robust time per call: the minimum and the median over 200 short batches (on a shared
/// machine the minimum batch is the one that ran without being preempted, so it tracks the uncontended cost).
/// </summary>
internal static class AllocationProbe
{
    private const int Warmup = 2_000;
    private const int Calls = 20_000;

    public static void Run()
    {
        var f = TokenFixture.Shared;
        Console.WriteLine($"{"alg",-6} {"step",-58} {"B/call",8} {"min ns",10} {"median ns",10}");
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
            var ms = f.MsParameters(alg);
            Report(alg, "JsonWebTokenHandler.ValidateTokenAsync", () => f.MsHandler.ValidateTokenAsync(tokenString, ms).GetAwaiter().GetResult().IsValid);
            var copy = token.ToArray();
            Report(alg, "  cache step: XxHash3.HashToUInt64(token)", () => System.IO.Hashing.XxHash3.HashToUInt64(token, 42) != 0);
            Report(alg, "  cache step: FixedTimeEquals(token, copy)", () => CryptographicOperations.FixedTimeEquals(token, copy));
            Report(alg, "  (compare) SequenceEqual(token, copy), not constant-time", () => token.AsSpan().SequenceEqual(copy));
            Report(alg, "  (compare) Vector256 XOR-OR constant-time equality", () => VectorFixedTimeEquals(token, copy));
            Report(alg, "  cache step: TimeProvider.System.GetUtcNow()", () => TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() > 0);
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
                // Same signature pre-converted to DER: shows how much of the allocation is the P1363->DER conversion.
                var der = f.EcPrivate.SignHash(hash, DSASignatureFormat.Rfc3279DerSequence);
                Report(alg, "  raw: ECDsa.VerifyHash only (DER input)", () => f.EcPublic.VerifyHash(hash, der, DSASignatureFormat.Rfc3279DerSequence));
            }
            if (alg == "RS256")
            {
                SHA256.HashData(raw.SigningInput, hash);
                Report(alg, "  raw: RSA.VerifyHash only (PKCS#1 v1.5)", () => f.RsaPublic.VerifyHash(hash, raw.Signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
            }
        }

        // In the server the Authio.Edge meter has a listener (OpenTelemetry), so CacheHit's Counter.Add does real work.
        // A no-op listener shows the instrument dispatch cost on the cached path (still must be 0 B).
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Authio.EdgeProxy.Diagnostics.EdgeMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        // The per-route histograms (RequestMetrics) record doubles: listened to, their cached label arrays are passed on.
        listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        listener.Start();
        var es = f.Mint("ES256");
        var esBytes = Encoding.ASCII.GetBytes(es);
        f.Authenticator.TryAuthenticate(esBytes.AsSpan(), null, out _, out _);
        Report("ES256", "edge TryAuthenticate(chars) hit, meter listener on", () => f.Authenticator.TryAuthenticate(es.AsSpan(), null, out _, out _));

        // The whole middleware stage on a cache hit, and the header enumeration its scrub step does.
        var middleware = new MiddlewareBenchmarks();
        middleware.Setup();
        Report("ES256", "EdgeMiddleware.InvokeAsync cache hit (+header reset)", () => middleware.Invoke().IsCompleted);
        Report("ES256", "  header reset only", () => { middleware.ResetOnly(); return true; });
        Microsoft.AspNetCore.Http.IHeaderDictionary headers = new Microsoft.AspNetCore.Http.HeaderDictionary { ["Host"] = "h", ["Authorization"] = "Bearer x" };
        Report("ES256", "  foreach over IHeaderDictionary (as the scrub does)", () =>
        {
            var n = 0;
            foreach (var header in headers)
            {
                n += header.Key.Length;
            }
            return n > 0;
        });
    }

    /// <summary>
    /// What a vectorized constant-time comparison costs: no data-dependent branch or early exit, every byte is read.
    /// (CryptographicOperations.FixedTimeEquals is compiled with MethodImplOptions.NoOptimization, one byte per step.)
    /// </summary>
    internal static bool VectorFixedTimeEquals(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        if (left.Length != right.Length)
        {
            return false;
        }
        var accumulator = System.Runtime.Intrinsics.Vector256<byte>.Zero;
        var i = 0;
        for (; i + 32 <= left.Length; i += 32)
        {
            accumulator |= System.Runtime.Intrinsics.Vector256.Create(left.Slice(i, 32)) ^ System.Runtime.Intrinsics.Vector256.Create(right.Slice(i, 32));
        }
        var tail = 0;
        for (; i < left.Length; i++)
        {
            tail |= left[i] ^ right[i];
        }
        return (accumulator == System.Runtime.Intrinsics.Vector256<byte>.Zero) & tail == 0;
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

        // Batches of ~20 us-2 ms: short enough that some run uncontended, long enough for the timer.
        var probe = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 100; i++)
        {
            call();
        }
        var batch = (int)Math.Clamp(100 * 200_000.0 / Math.Max(1, probe.Elapsed.Ticks * (1e9 / System.Diagnostics.Stopwatch.Frequency)), 10, 20_000);
        var samples = new double[200];
        for (var s = 0; s < samples.Length; s++)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            for (var i = 0; i < batch; i++)
            {
                call();
            }
            samples[s] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalNanoseconds / batch;
        }
        Array.Sort(samples);
        Console.WriteLine($"{alg,-6} {step,-58} {perCall,8:F1} {samples[0],10:F0} {samples[samples.Length / 2],10:F0}");
    }
}
