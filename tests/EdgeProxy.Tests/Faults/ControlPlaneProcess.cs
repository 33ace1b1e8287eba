using System.Diagnostics;
using System.Text;

namespace Authio.EdgeProxy.Tests.Faults;

/// <summary>
/// The control plane as a separate process (the Release or Debug build of src/ControlPlane, as the tests were built),
/// on a fixed loopback port and data directory, so a test can kill it (-9), pause it (SIGSTOP) and start it again
/// where the edge expects it.
/// </summary>
public sealed class ControlPlaneProcess : IAsyncDisposable
{
    public const string AdminEmail = "admin@faults.test";
    public const string Password = "Fault!passw0rd1";

    private readonly StringBuilder _output = new();
    private string[] _arguments = [];
    private Process? _process;

    private ControlPlaneProcess(string url) => Url = url;

    public string Url { get; }

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("authio-faults-cp").FullName;

    public HttpClient Http { get; private set; } = null!;

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

    /// <summary>The control plane's build output beside the tests' (the solution is built as a whole).</summary>
    public static string Binary => BuildOutput.Dll("ControlPlane", "Authio.ControlPlane.dll");

    public static async Task<ControlPlaneProcess> StartAsync(params string[] extra)
    {
        var port = Infrastructure.ChildProcess.FreePort();
        var url = $"http://127.0.0.1:{port}";
        var cp = new ControlPlaneProcess(url) { Http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) } };
        cp._arguments =
        [
            Binary, $"--urls={url}", $"--ControlPlane:AdminUrls=http://127.0.0.1:{Infrastructure.ChildProcess.FreePort()}", "--environment=Production",
            $"--ControlPlane:DataDirectory={cp.DataDirectory}", $"--ControlPlane:Issuer={url}",
            $"--ControlPlane:MasterKey={Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))}",
            "--ControlPlane:Bootstrap:OrgName=Faults", $"--ControlPlane:Bootstrap:AdminEmail={AdminEmail}", $"--ControlPlane:Bootstrap:AdminPassword={Password}",
            "--ControlPlane:Passwords:TestOnlyInsecureBcryptCost=4", "--ControlPlane:RateLimits:Enabled=false", "--Logging:LogLevel:Default=Warning",
            .. extra,
        ];
        await cp.RestartAsync();
        return cp;
    }

    /// <summary>Starts the process (again, on the same port and data) and waits until it serves its JWKS.</summary>
    public async Task RestartAsync()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in _arguments)
        {
            start.ArgumentList.Add(argument);
        }
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            Assert.False(_process.HasExited, "the control plane exited: " + Output);
            try
            {
                using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                using var response = await probe.GetAsync(Url + "/.well-known/jwks.json");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("the control plane did not start: " + Output);
    }

    /// <summary>kill -9: no shutdown, no flush.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    /// <summary>SIGSTOP / SIGCONT: a hang, not a crash (connections stay open, nothing answers).</summary>
    public void Pause() => Signal("-STOP");

    public void Resume() => Signal("-CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
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

    public ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            Signal("-CONT");
        }
        Kill();
        _process?.Dispose();
        Http.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
