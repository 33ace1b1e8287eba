using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Policy;
using Authio.EdgeProxy.RateLimiting;
using Authio.Shared.Tokens;
using BenchmarkDotNet.Attributes;
using Yarp.ReverseProxy.Configuration;

namespace Authio.Edge.Benchmarks.Policy;

/// <summary>
/// The step-up check (<c>Authio.MaxAuthAge</c> + <c>Authio.Acr</c>) on a token-cache hit: <c>auth_time</c> and the
/// <c>acr</c> rank were captured when the token was validated, the clock is the coarse clock's cached field, and the
/// refusals were built with the route. Budget: 0 B and at most 20 ns per check, whether it passes or refuses.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class StepUpBenchmarks
{
    private StepUpPolicy _policy = null!;
    private CoarseClock _clock = null!;
    private EdgeIdentity _fresh = null!;
    private EdgeIdentity _old = null!;
    private EdgeIdentity _weak = null!;

    [GlobalSetup]
    public void Setup()
    {
        var route = new RouteConfig
        {
            RouteId = "admin", ClusterId = "up", Match = new RouteMatch { Path = "/admin/{**rest}" },
            Metadata = new Dictionary<string, string> { ["Authio.MaxAuthAge"] = "300", ["Authio.Acr"] = "mfa" },
        };
        if (!RoutePolicy.TryCompile(route, out var policy, out var error) || policy.StepUp is null)
        {
            throw new InvalidOperationException(error ?? "no step-up policy");
        }
        _policy = policy.StepUp;
        _clock = new CoarseClock(TimeProvider.System);
        var now = _clock.UnixSeconds;
        _fresh = Identity(now - 10, AuthenticationLevels.Rank(AuthenticationLevels.MultiFactor));
        _old = Identity(now - 600, AuthenticationLevels.Rank(AuthenticationLevels.MultiFactor));
        _weak = Identity(now - 10, AuthenticationLevels.Rank(AuthenticationLevels.Password));
        if (Pass() is not null || TooOld() is null || TooWeak() is null)
        {
            throw new InvalidOperationException("step-up check does not decide as expected");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _clock.Dispose();

    private static EdgeIdentity Identity(long authTime, int acrRank) => new()
    {
        Subject = "user_1", Scopes = ["read:*"], ScopesHeader = "read:*", AuthType = "jwt", AuthTime = authTime, AcrRank = acrRank,
    };

    [Benchmark(Baseline = true, Description = "pass (recent, mfa)")]
    public object? Pass() => _policy.Check(_fresh, _clock.UnixSeconds);

    [Benchmark(Description = "too old (10 min, max 300 s)")]
    public object? TooOld() => _policy.Check(_old, _clock.UnixSeconds);

    [Benchmark(Description = "too weak (pwd, min mfa)")]
    public object? TooWeak() => _policy.Check(_weak, _clock.UnixSeconds);
}
