using System.Data.Common;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Hosting;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Authio.ControlPlane.Tests;

/// <summary>One control plane on 127.0.0.1 (random port) per test class, with fake time and a fresh store.</summary>
public abstract class ControlPlaneFixture : IAsyncLifetime
{
    public const string AdminEmail = "admin@acme.test";
    public const string AdminPassword = "Adm1n!pass";
    public const string DefaultPassword = "Passw0rd!";

    private WebApplication? _app;
    private string[] _args = [];

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero))
    {
        // Every read moves time a little, so "oldest" and "newest" are always well defined.
        AutoAdvanceAmount = TimeSpan.FromMilliseconds(1),
    };

    public HttpClient Http { get; private set; } = null!;

    /// <summary>Every log line of the app (all levels), for asserting that secrets are never logged.</summary>
    public LogCapture Logs { get; } = new();
    public IServiceProvider Services => _app!.Services;
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "authio-cp-" + Guid.NewGuid().ToString("N"));

    /// <summary>False when the suite is skipped (no PostgreSQL outside CI).</summary>
    public bool Started => _app is not null;

    /// <summary>
    /// Rate limits the app starts with: by default none a suite could trip (every sign-in of every test is the admin's
    /// or from 127.0.0.1), so only the fixtures that test the limits replace them.
    /// </summary>
    protected virtual IEnumerable<string> RateLimitArguments =>
    [
        "--ControlPlane:RateLimits:SignIn:PerIp=1000000/1s",
        "--ControlPlane:RateLimits:SignIn:PerAccount=1000000/1s",
        "--ControlPlane:RateLimits:Refresh:PerIp=1000000/1s",
        "--ControlPlane:RateLimits:Refresh:PerAccount=1000000/1s",
        "--ControlPlane:RateLimits:Password:PerIp=1000000/1s",
        "--ControlPlane:RateLimits:Password:PerAccount=1000000/1s",
    ];

    /// <summary>Settings a specialised fixture adds (or overrides: later arguments win).</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    /// <summary>Store-specific settings (connection strings) as command-line arguments; null to skip starting.</summary>
    protected abstract Task<string[]?> StoreArgumentsAsync();

    /// <summary>A connection that sees every row (owner/superuser), for asserting what is persisted and for tampering.</summary>
    public abstract Task<DbConnection> OpenInspectorAsync();

    public async Task InitializeAsync()
    {
        var store = await StoreArgumentsAsync();
        if (store is null)
        {
            return;
        }

        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            "--ControlPlane:AdminUrls=http://127.0.0.1:0",
            "--environment=Production",
            $"--ControlPlane:DataDirectory={DataDirectory}",
            $"--ControlPlane:MasterKey={Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))}",
            "--ControlPlane:Bootstrap:OrgName=Acme",
            $"--ControlPlane:Bootstrap:AdminEmail={AdminEmail}",
            $"--ControlPlane:Bootstrap:AdminPassword={AdminPassword}",
            "--ControlPlane:Passwords:TestOnlyInsecureBcryptCost=4",
            "--ControlPlane:Jobs:Enabled=false",
            // Webhook tests deliver to a receiver on loopback over http.
            "--ControlPlane:Webhooks:AllowPrivateNetworks=true",
            .. RateLimitArguments,
            "--Logging:LogLevel:Default=Warning",
            .. store,
            .. ExtraArguments,
        ];
        _args = args;
        _app = ControlPlaneApp.Build(args, s =>
        {
            s.AddSingleton<TimeProvider>(Time);
            Logs.Register(s);
        });
        await ControlPlaneApp.PrepareAsync(_app);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Http = new HttpClient { BaseAddress = new Uri(address) };
        Http.DefaultRequestHeaders.UserAgent.ParseAdd("authio-tests/1.0");
    }

    /// <summary>A second instance on the same store and settings, as in a multi-instance deployment. Caller disposes it.</summary>
    public async Task<(WebApplication App, HttpClient Http)> StartAnotherInstanceAsync(params string[] extraArgs)
    {
        var app = ControlPlaneApp.Build([.. _args, .. extraArgs], s =>
        {
            s.AddSingleton<TimeProvider>(Time);
            Logs.Register(s);
        });
        await ControlPlaneApp.PrepareAsync(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new HttpClient { BaseAddress = new Uri(address) });
    }

    public virtual async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    public async Task<T> InspectAsync<T>(string sql, object? param = null)
    {
        await using var c = await OpenInspectorAsync();
        return await c.ExecuteScalarAsync<T>(sql, param) ?? throw new InvalidOperationException("no value for: " + sql);
    }

    public async Task<int> ExecuteAsync(string sql, object? param = null)
    {
        await using var c = await OpenInspectorAsync();
        return await c.ExecuteAsync(sql, param);
    }

    public async Task<HttpResponseMessage> LoginAsync(string email, string password, string? orgId = null) =>
        await Http.PostAsJsonAsync("/v1/auth/login", orgId is null ? new { email, password } : (object)new { email, password, org_id = orgId });

    public async Task<Tokens> LoginOkAsync(string email, string password, string? orgId = null)
    {
        var r = await LoginAsync(email, password, orgId);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"login {email}: {(int)r.StatusCode} {body}");
        var json = JsonNode.Parse(body)!;
        return new Tokens((string)json["access_token"]!, (string)json["refresh_token"]!);
    }

    public Task<Tokens> AdminAsync() => LoginOkAsync(AdminEmail, AdminPassword);

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? accessToken, object? body = null)
    {
        using var req = new HttpRequestMessage(method, path);
        if (accessToken is not null)
        {
            req.Headers.Authorization = new("Bearer", accessToken);
        }

        if (body is not null)
        {
            req.Content = JsonContent.Create(body);
        }

        return await Http.SendAsync(req);
    }

    /// <summary>Creates a user in the admin's org; returns its id and email (password <see cref="DefaultPassword"/>).</summary>
    public async Task<(string Id, string Email)> CreateUserAsync(string role = "explore", Tokens? admin = null)
    {
        admin ??= await AdminAsync();
        var email = $"u{Guid.NewGuid():N}@acme.test";
        var r = await SendAsync(HttpMethod.Post, "/v1/users", admin.Access, new { email, password = DefaultPassword, role });
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == System.Net.HttpStatusCode.Created, body);
        return ((string)JsonNode.Parse(body)!["id"]!, email);
    }
}

public sealed record Tokens(string Access, string Refresh);
