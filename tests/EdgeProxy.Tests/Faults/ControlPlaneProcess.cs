
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

    private DotnetProcess _process = null!;

    private ControlPlaneProcess(string url) => Url = url;

    public string Url { get; }

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("authio-faults-cp").FullName;

    public HttpClient Http { get; private set; } = null!;

    public string Output => _process.Output;

    /// <summary>The control plane's build output beside the tests' (the solution is built as a whole).</summary>
    public static string Binary => BuildOutput.Dll("ControlPlane", "Authio.ControlPlane.dll");

    public static async Task<ControlPlaneProcess> StartAsync(params string[] extra)
    {
        var port = Infrastructure.ChildProcess.FreePort();
        var url = $"http://127.0.0.1:{port}";
        var cp = new ControlPlaneProcess(url) { Http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) } };
        cp._process = new DotnetProcess("control plane",
        [
            Binary, $"--urls={url}", $"--ControlPlane:AdminUrls=http://127.0.0.1:{Infrastructure.ChildProcess.FreePort()}", "--environment=Production",
            $"--ControlPlane:DataDirectory={cp.DataDirectory}", $"--ControlPlane:Issuer={url}",
            $"--ControlPlane:MasterKey={Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))}",
            "--ControlPlane:Bootstrap:OrgName=Faults", $"--ControlPlane:Bootstrap:AdminEmail={AdminEmail}", $"--ControlPlane:Bootstrap:AdminPassword={Password}",
            "--ControlPlane:Passwords:TestOnlyInsecureBcryptCost=4", "--ControlPlane:RateLimits:Enabled=false", "--Logging:LogLevel:Default=Warning",
            .. extra,
        ]);
        await cp.RestartAsync();
        return cp;
    }

    /// <summary>Starts the process (again, on the same port and data) and waits until it serves its JWKS.</summary>
    public Task RestartAsync() => _process.StartAsync(Url + "/.well-known/jwks.json");

    /// <summary>kill -9: no shutdown, no flush.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGSTOP / SIGCONT: a hang, not a crash (connections stay open, nothing answers).</summary>
    public void Pause() => Signal("-STOP");

    public void Resume() => Signal("-CONT");

    private void Signal(string signal) => _process.Signal(signal);

    public ValueTask DisposeAsync()
    {
        if (_process.Running)
        {
            Signal("-CONT");
        }
        _process.Dispose();
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
