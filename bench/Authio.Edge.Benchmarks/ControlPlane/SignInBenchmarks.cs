using System.Net.Http.Json;
using System.Text.Json;
using BenchmarkDotNet.Attributes;

namespace Authio.Edge.Benchmarks.ControlPlane;

/// <summary>
/// The control plane's sign-in and refresh over real HTTP on loopback (SQLite store, production bcrypt cost 12):
/// one login is dominated by one bcrypt verify; one refresh rotates the refresh token (lookup, reuse check, insert)
/// and signs a new ES256 access token. Each refresh uses the token the previous one returned.
/// </summary>
[MemoryDiagnoser]
public class SignInBenchmarks
{
    private BenchControlPlane _cp = null!;
    private string _refreshToken = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _cp = await BenchControlPlane.StartAsync(bcryptCost: 12);
        _refreshToken = (await _cp.LoginAsync()).GetProperty("refresh_token").GetString()!;
    }

    [GlobalCleanup]
    public async Task Cleanup() => await _cp.DisposeAsync();

    [Benchmark(Description = "POST /v1/auth/login (bcrypt cost 12)")]
    public Task<JsonElement> Login() => _cp.LoginAsync();

    [Benchmark(Description = "POST /v1/auth/refresh (rotation + ES256 signing)")]
    public async Task<string> Refresh()
    {
        using var response = await _cp.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = _refreshToken });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return _refreshToken = body.GetProperty("refresh_token").GetString()!;
    }
}
