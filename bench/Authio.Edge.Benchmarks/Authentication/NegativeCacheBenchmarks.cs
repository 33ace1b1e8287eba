using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Diagnostics;
using Authio.EdgeProxy.Errors;
using Authio.EdgeProxy.Revocation;
using Authio.EdgeProxy.Tokens;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.Edge.Benchmarks.Authentication;

/// <summary>
/// A genuinely signed but expired token, per algorithm: its first check (full validation: signature, then claims —
/// what every replay cost before the negative cache, baseline) against a replay answered by the negative cache
/// (hash + constant-time byte compare, no signature check), as bytes and as the middleware calls it (UTF-16).
/// Setup asserts the replay answers token_expired and runs no signature check.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByParams)]
public class NegativeCacheBenchmarks
{
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.10");
    private TokenFixture _f = null!;
    private EdgeAuthenticator _authenticator = null!;
    private byte[] _token = null!;
    private string _tokenString = null!;
    private byte[] _payload = null!;

    [Params("ES256", "RS256")]
    public string Alg { get; set; } = "ES256";

    [GlobalSetup]
    public void Setup()
    {
        _f = TokenFixture.Shared;
        _tokenString = _f.Mint(Alg, issuedAt: _f.Now.AddHours(-2), lifetime: TimeSpan.FromHours(1), jti: "expired-" + Alg);
        _token = Encoding.ASCII.GetBytes(_tokenString);
        _payload = new byte[JwtValidator.PayloadBufferSize(_token.Length)];
        var meterFactory = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        _authenticator = new EdgeAuthenticator(_f.Validator, new TokenCache(1024),
            new FailureBudget(new FailureBudgetOptions { Burst = 1_000_000_000 }, TimeProvider.System), new NoRevocations(),
            new EdgeMetrics(meterFactory, _f.Registry, TimeProvider.System), TimeProvider.System, new NegativeTokenCache(16_384));

        if (FirstCheck())
        {
            throw new InvalidOperationException("the expired token validated");
        }

        _authenticator.TryAuthenticate(_token.AsSpan(), Client, out _, out var first);
        var checks = _f.Validator.SignatureChecks;
        if (Replay() || ReplayUtf16())
        {
            throw new InvalidOperationException("the replay was accepted");
        }

        _authenticator.TryAuthenticate(_token.AsSpan(), Client, out _, out var replayed);
        if (!ReferenceEquals(first, EdgeError.Expired) || !ReferenceEquals(replayed, EdgeError.Expired))
        {
            throw new InvalidOperationException($"expected token_expired, got {first?.Code} then {replayed?.Code}");
        }
        if (_f.Validator.SignatureChecks != checks)
        {
            throw new InvalidOperationException("the replay ran a signature check");
        }
    }

    /// <summary>
    /// `negative-probe` mode: min and median time per call over 200 short batches (on a shared machine the minimum batch
    /// is the one that ran without being preempted), for figures that BenchmarkDotNet's short job cannot give under load.
    /// </summary>
    public static void Probe()
    {
        foreach (var alg in new[] { "ES256", "RS256" })
        {
            var b = new NegativeCacheBenchmarks { Alg = alg };
            b.Setup();
            Measure(alg, "replay, negative cache (bytes)", b.Replay, 2000);
            Measure(alg, "replay, negative cache (chars)", b.ReplayUtf16, 2000);
            Measure(alg, "full validation (expired)", b.FirstCheck, 20);
        }

        static void Measure(string alg, string name, Func<bool> call, int batch)
        {
            for (var i = 0; i < 20_000; i++)
            {
                call();
            }
            var times = new double[200];
            for (var r = 0; r < times.Length; r++)
            {
                var start = Stopwatch.GetTimestamp();
                for (var i = 0; i < batch; i++)
                {
                    call();
                }
                times[r] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / batch;
            }
            Array.Sort(times);
            Console.WriteLine($"{alg} {name,-34} min {times[0],10:F1} ns  median {times[100],10:F1} ns");
        }
    }

    [Benchmark(Baseline = true, Description = "Expired token, full validation (every replay before)")]
    public bool FirstCheck() => _f.Validator.TryValidate(_token, _payload, out _, out _);

    [Benchmark(Description = "Expired token replay, negative cache (bytes)")]
    public bool Replay() => _authenticator.TryAuthenticate(_token.AsSpan(), Client, out _, out _);

    [Benchmark(Description = "Expired token replay, negative cache (chars, middleware path)")]
    public bool ReplayUtf16() => _authenticator.TryAuthenticate(_tokenString.AsSpan(), Client, out _, out EdgeError? _);
}
