using Authio.ControlPlane.Api;
using Authio.ControlPlane.EdgeSync;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.Tokens;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.Edge.Benchmarks.ControlPlane;

/// <summary>
/// The admin API's per-request authority check (session, jti, user not-before, current role and membership) for a
/// validated access token: the steady path (cache hit) against the store read it replaces (SQLite, one org-scoped
/// transaction), the whole steady path of the admin API's check (validated-token cache hit, then the authority check),
/// and the full access-token validation a cache miss pays.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class AuthorityBenchmarks
{
    private BenchControlPlane _cp = null!;
    private CallerAuthority _authority = null!;
    private CallerAuthority _uncached = null!;
    private AccessTokenValidator _validator = null!;
    private AccessTokenClaims _claims = null!;
    private string _token = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _cp = await BenchControlPlane.StartAsync(bcryptCost: 10);
        _token = (await _cp.LoginAsync()).GetProperty("access_token").GetString()!;
        var sp = _cp.Services;
        _authority = sp.GetRequiredService<CallerAuthority>();
        _validator = sp.GetRequiredService<AccessTokenValidator>();
        // Never told the change log's position, so it never serves from its cache: every check reads the store.
        _uncached = new CallerAuthority(sp.GetRequiredService<SessionStore>(), sp.GetRequiredService<EdgeChangeStore>(), _validator,
            sp.GetRequiredService<ControlPlaneOptions>(), TimeProvider.System);
        _claims = (await _validator.ValidateAsync(_token))!;
        // Wait for the poller's first reading, then warm the cache.
        for (var i = 0; i < 100 && _authority.Hits == 0; i++)
        {
            await _authority.CheckAsync(_claims, default);
            await Task.Delay(20);
        }
        if (_authority.Hits == 0)
        {
            throw new InvalidOperationException("the authority cache never served a hit");
        }

        await _authority.ValidateAsync(_token, default);
    }

    [GlobalCleanup]
    public async Task Cleanup() => await _cp.DisposeAsync();

    [Benchmark(Baseline = true, Description = "Authority check, cache hit (steady path)")]
    public async Task<bool> CacheHit() => (await _authority.CheckAsync(_claims, default)).Allowed;

    [Benchmark(Description = "Authority check, store read (SQLite)")]
    public async Task<bool> StoreRead() => (await _uncached.CheckAsync(_claims, default)).Allowed;

    [Benchmark(Description = "Whole steady path: validated-token cache hit + authority check")]
    public async Task<bool> SteadyPath()
    {
        var claims = await _authority.ValidateAsync(_token, default);
        return claims is not null && (await _authority.CheckAsync(claims, default)).Allowed;
    }

    [Benchmark(Description = "Access-token validation (ES256, JsonWebTokenHandler)")]
    public async Task<bool> Validation() => await _validator.ValidateAsync(_token) is not null;
}
