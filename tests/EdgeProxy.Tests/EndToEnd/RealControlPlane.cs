using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Authio.ControlPlane.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.EdgeProxy.Tests.EndToEnd;

/// <summary>The real control plane on 127.0.0.1 (SQLite in a temp directory, bootstrap org with a mod admin).</summary>
public sealed class RealControlPlane : IAsyncDisposable
{
    public const string AdminEmail = "admin@acme.test";
    public const string Password = "Adm1n!pass";
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "authio-e2e-" + Guid.NewGuid().ToString("N"));
    private WebApplication _app = null!;

    public HttpClient Http { get; private set; } = null!;
    /// <summary>The control plane's services, for tests that need what only an insider has (an org's private signing key).</summary>
    public IServiceProvider Services => _app.Services;
    public string Url { get; private set; } = "";

    public static Task<RealControlPlane> StartAsync(params string[] extraArguments) => StartAsync(null, extraArguments);

    /// <summary>With <paramref name="time"/>, the control plane's clock is the test's (sign-in times, token lifetimes).</summary>
    public static async Task<RealControlPlane> StartAsync(TimeProvider? time, params string[] extraArguments)
    {
        var cp = new RealControlPlane();
        cp._app = ControlPlaneApp.Build(
        [
            "--urls=http://127.0.0.1:0", "--ControlPlane:AdminUrls=http://127.0.0.1:0", "--environment=Production", $"--ControlPlane:DataDirectory={cp._dataDirectory}",
            "--ControlPlane:Bootstrap:OrgName=Acme", $"--ControlPlane:Bootstrap:AdminEmail={AdminEmail}",
            $"--ControlPlane:Bootstrap:AdminPassword={Password}", "--ControlPlane:Passwords:TestOnlyInsecureBcryptCost=4",
            "--ControlPlane:Jobs:Enabled=false", "--ControlPlane:RateLimits:Enabled=false", "--Logging:LogLevel:Default=Warning",
            .. extraArguments,
        ], time is null ? null : services => services.AddSingleton(time));
        await ControlPlaneApp.PrepareAsync(cp._app);
        await cp._app.StartAsync();
        cp.Url = cp._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        cp.Http = new HttpClient { BaseAddress = new Uri(cp.Url) };
        return cp;
    }

    public async Task<JsonElement> LoginAsync(string email = AdminEmail, string password = Password, string? orgId = null)
    {
        using var response = await Http.PostAsJsonAsync("/v1/auth/login", orgId is null ? new { email, password } : (object)new { email, password, org_id = orgId });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<string> AccessTokenAsync(string email = AdminEmail, string password = Password) =>
        (await LoginAsync(email, password)).GetProperty("access_token").GetString()!;

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new("Bearer", token);
        return await Http.SendAsync(request);
    }

    public async Task<JsonElement> CreateApiKeyAsync(string adminToken, string name, string[] scopes, string environment = "live")
    {
        using var response = await SendAsync(HttpMethod.Post, "/v1/api-keys", adminToken, new { name, scopes, environment });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>
    /// A second tenant: a new mod of the bootstrap org founds org <paramref name="name"/>; its id and that founder's
    /// token for it.
    /// </summary>
    public async Task<(string OrgId, string ModToken)> SecondOrgAsync(string adminToken, string name = "Beta")
    {
        var email = $"mod{Guid.NewGuid():N}@acme.test";
        using (var created = await SendAsync(HttpMethod.Post, "/v1/users", adminToken, new { email, password = Password, role = "mod" }))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }
        var founder = await AccessTokenAsync(email);
        using var org = await SendAsync(HttpMethod.Post, "/v1/orgs", founder, new { name });
        Assert.Equal(HttpStatusCode.Created, org.StatusCode);
        var orgId = (await org.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        return (orgId, (await LoginAsync(email, orgId: orgId)).GetProperty("access_token").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
