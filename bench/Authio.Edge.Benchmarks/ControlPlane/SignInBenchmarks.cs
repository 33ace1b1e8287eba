using System.Net.Http.Json;
using System.Text.Json;
using Authio.ControlPlane.Hosting;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.Edge.Benchmarks.ControlPlane;

/// <summary>
/// The control plane's sign-in and refresh over real HTTP on loopback (SQLite store, production bcrypt cost 12):
/// one login is dominated by one bcrypt verify; one refresh rotates the refresh token (lookup, reuse check, insert)
/// and signs a new ES256 access token. Each refresh uses the token the previous one returned.
/// </summary>
[MemoryDiagnoser]
public class SignInBenchmarks
{
    private const string Email = "bench@acme.test";
    private const string Password = "Bench!passw0rd";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "authio-bench-" + Guid.NewGuid().ToString("N"));
    private WebApplication _app = null!;
    private HttpClient _http = null!;
    private string _refreshToken = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _app = ControlPlaneApp.Build(
        [
            "--urls=http://127.0.0.1:0", "--environment=Production", $"--ControlPlane:DataDirectory={_data}",
            "--ControlPlane:Bootstrap:OrgName=Bench", $"--ControlPlane:Bootstrap:AdminEmail={Email}",
            $"--ControlPlane:Bootstrap:AdminPassword={Password}", "--ControlPlane:Passwords:BcryptCost=12",
            "--ControlPlane:RateLimits:Enabled=false", "--ControlPlane:Jobs:Enabled=false",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await ControlPlaneApp.PrepareAsync(_app);
        await _app.StartAsync();
        var url = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _http = new HttpClient { BaseAddress = new Uri(url) };
        _refreshToken = (await LoginAsync()).GetProperty("refresh_token").GetString()!;
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    private async Task<JsonElement> LoginAsync()
    {
        using var response = await _http.PostAsJsonAsync("/v1/auth/login", new { email = Email, password = Password });
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Benchmark(Description = "POST /v1/auth/login (bcrypt cost 12)")]
    public Task<JsonElement> Login() => LoginAsync();

    [Benchmark(Description = "POST /v1/auth/refresh (rotation + ES256 signing)")]
    public async Task<string> Refresh()
    {
        using var response = await _http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = _refreshToken });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return _refreshToken = body.GetProperty("refresh_token").GetString()!;
    }
}
