using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Authio.ControlPlane.Tests;

/// <summary>The control plane as a child process (<c>dotnet Authio.ControlPlane.dll</c>), so a test can kill it outright.</summary>
internal sealed class ControlPlaneProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ControlPlaneProcess(Process process, string url)
    {
        _process = process;
        Url = url;
        Http = new HttpClient { BaseAddress = new Uri(url) };
    }

    public string Url { get; }
    public HttpClient Http { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<ControlPlaneProcess> StartAsync(string dataDirectory, params string[] extra)
    {
        var port = WebhookReceiver.FreePort();
        var start = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dataDirectory,
        };
        foreach (var argument in (string[])[
            Path.Combine(AppContext.BaseDirectory, "Authio.ControlPlane.dll"), $"--urls=http://127.0.0.1:{port}",
            "--ControlPlane:AdminUrls=http://127.0.0.1:0", "--environment=Production", $"--ControlPlane:DataDirectory={dataDirectory}",
            "--ControlPlane:Bootstrap:OrgName=Acme", $"--ControlPlane:Bootstrap:AdminEmail={ControlPlaneFixture.AdminEmail}",
            $"--ControlPlane:Bootstrap:AdminPassword={ControlPlaneFixture.AdminPassword}", "--ControlPlane:Passwords:TestOnlyInsecureBcryptCost=4",
            "--ControlPlane:Jobs:Enabled=false", "--ControlPlane:RateLimits:Enabled=false", "--Logging:LogLevel:Default=Warning", .. extra])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        var child = new ControlPlaneProcess(process, $"http://127.0.0.1:{port}");
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (var i = 0; i < 300 && !process.HasExited; i++)
        {
            try
            {
                using var ok = await child.Http.GetAsync("/healthz");
                if (ok.IsSuccessStatusCode)
                {
                    return child;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }

        await child.DisposeAsync();
        throw new InvalidOperationException("the control plane did not start:\n" + child.Output);
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    /// <summary>SIGKILL: no shutdown, no draining, nothing flushed but what the database already committed.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? access, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (access is not null)
        {
            request.Headers.Authorization = new("Bearer", access);
        }

        return await Http.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
        await Task.CompletedTask;
    }
}

public sealed class WebhookKillTests
{
    [Fact]
    public async Task Killing_the_control_plane_with_deliveries_pending_loses_none_after_a_restart()
    {
        var data = Path.Combine(Path.GetTempPath(), "authio-kill-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        // Loopback receiver, short timeouts and backoff: real time runs in a child process.
        string[] settings = ["--ControlPlane:Webhooks:AllowPrivateNetworks=true", "--ControlPlane:Webhooks:Timeout=00:00:01",
            "--ControlPlane:Webhooks:InitialBackoff=00:00:01", "--ControlPlane:Webhooks:PollInterval=00:00:00.2"];
        using var down = new PortReservation();
        var port = down.Port;
        try
        {
            var events = new List<string>();
            await using (var first = await ControlPlaneProcess.StartAsync(data, settings))
            {
                var login = await (await first.Http.PostAsJsonAsync("/v1/auth/login",
                    new { email = ControlPlaneFixture.AdminEmail, password = ControlPlaneFixture.AdminPassword })).BodyAsync(HttpStatusCode.OK);
                var access = (string)login["access_token"]!;
                await (await first.SendAsync(HttpMethod.Post, "/v1/webhooks", access,
                    new { url = $"http://127.0.0.1:{port}/hooks", events = new[] { "user_created" } })).BodyAsync(HttpStatusCode.Created);
                for (var i = 0; i < 3; i++)
                {
                    await (await first.SendAsync(HttpMethod.Post, "/v1/users", access,
                        new { email = $"k{i}{Guid.NewGuid():N}@acme.test", password = ControlPlaneFixture.DefaultPassword, role = "explore" }))
                        .BodyAsync(HttpStatusCode.Created);
                }

                // The receiver is down: every delivery is still pending (some may be mid-attempt) when the process dies.
                first.Kill();
            }

            await using var receiver = await WebhookReceiver.StartAsync(down);
            await using var second = await ControlPlaneProcess.StartAsync(data, settings);
            var deadline = DateTime.UtcNow.AddSeconds(40);
            while (receiver.Acknowledged.Select(r => r.EventId).Distinct().Count() < 3 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            var acked = receiver.Acknowledged.Select(r => r.EventId!).Distinct().ToList();
            Assert.True(acked.Count == 3, $"acknowledged {acked.Count} of 3\n{second.Output}");
            var login2 = await (await second.Http.PostAsJsonAsync("/v1/auth/login",
                new { email = ControlPlaneFixture.AdminEmail, password = ControlPlaneFixture.AdminPassword })).BodyAsync(HttpStatusCode.OK);
            var audit = await (await second.SendAsync(HttpMethod.Get, "/v1/audit-events?event=user_created", (string)login2["access_token"]!))
                .BodyAsync(HttpStatusCode.OK);
            var created = audit["items"]!.AsArray().Select(e => (string)e!["id"]!).ToList();
            Assert.Subset(created.ToHashSet(), acked.ToHashSet());
            Assert.All(receiver.Acknowledged, r => Assert.StartsWith("k", (string)r.Json["data"]!["email"]!, StringComparison.Ordinal));
            second.Kill();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }
}
