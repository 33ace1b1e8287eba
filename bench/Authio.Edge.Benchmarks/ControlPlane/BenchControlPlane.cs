using System.Net.Http.Json;
using System.Text.Json;
using Authio.ControlPlane.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.Edge.Benchmarks.ControlPlane;

/// <summary>A real control plane on loopback (SQLite in a temp directory, one bootstrap mod) for the control-plane benchmarks.</summary>
internal sealed class BenchControlPlane : IAsyncDisposable
{
    public const string Email = "bench@acme.test";
    public const string Password = "Bench!passw0rd";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "authio-bench-" + Guid.NewGuid().ToString("N"));
    private WebApplication _app = null!;

    public IServiceProvider Services => _app.Services;
    public HttpClient Http { get; private set; } = null!;

    public static async Task<BenchControlPlane> StartAsync(int bcryptCost)
    {
        var cp = new BenchControlPlane();
        cp._app = ControlPlaneApp.Build(
        [
            "--urls=http://127.0.0.1:0", "--ControlPlane:AdminUrls=http://127.0.0.1:0", "--environment=Production", $"--ControlPlane:DataDirectory={cp._data}",
            "--ControlPlane:Bootstrap:OrgName=Bench", $"--ControlPlane:Bootstrap:AdminEmail={Email}",
            $"--ControlPlane:Bootstrap:AdminPassword={Password}", $"--ControlPlane:Passwords:BcryptCost={bcryptCost}",
            "--ControlPlane:RateLimits:Enabled=false", "--ControlPlane:Jobs:Enabled=false",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await ControlPlaneApp.PrepareAsync(cp._app);
        await cp._app.StartAsync();
        var url = cp._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        cp.Http = new HttpClient { BaseAddress = new Uri(url) };
        return cp;
    }

    /// <summary>Signs the bootstrap mod in: the token pair as JSON.</summary>
    public async Task<JsonElement> LoginAsync()
    {
        using var response = await Http.PostAsJsonAsync("/v1/auth/login", new { email = Email, password = Password });
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }
}
