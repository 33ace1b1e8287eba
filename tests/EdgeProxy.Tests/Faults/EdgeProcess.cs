using System.Globalization;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Faults;

/// <summary>
/// The edge as a separate process (the build of src/EdgeProxy), on fixed loopback ports, so a test can kill it (-9) and
/// start it again where clients expect it. Configuration is passed as command-line keys.
/// </summary>
internal sealed class EdgeProcess : IAsyncDisposable
{
    private readonly DotnetProcess _process;

    private EdgeProcess(IReadOnlyDictionary<string, string?> config, IReadOnlyDictionary<string, string>? environment)
    {
        var port = ChildProcess.FreePort();
        var admin = ChildProcess.FreePort();
        Url = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        AdminUrl = $"http://127.0.0.1:{admin.ToString(CultureInfo.InvariantCulture)}";
        _process = new DotnetProcess("edge",
        [
            BuildOutput.Dll("EdgeProxy", "Authio.EdgeProxy.dll"), $"--urls={Url}", "--environment=Production", "--Logging:LogLevel:Default=Warning",
            .. config.Where(c => c.Key != "Edge:AdminUrls" && c.Value is not null).Select(c => $"--{c.Key}={c.Value}"),
            $"--Edge:AdminUrls={AdminUrl}",
        ], environment);
    }

    public string Url { get; }

    /// <summary>
    /// The GC settings the container image gives the edge (Dockerfile): the segments GC and a 4 MiB generation-0 budget.
    /// Empty where this runtime has no segments GC library, so the edge then runs with its runtimeconfig alone.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ContainerImageGc { get; } =
        File.Exists(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "libclrgc.so"))
            ? new Dictionary<string, string> { ["DOTNET_GCName"] = "libclrgc.so", ["DOTNET_GCgen0size"] = "0x400000" }
            : new Dictionary<string, string>();

    public string AdminUrl { get; }

    /// <summary>The running process's id (for its resident memory in /proc).</summary>
    public int Pid => _process.Pid;

    public string Output => _process.Output;

    /// <summary>Starts an edge with <paramref name="config"/> as command-line settings and, optionally, extra environment.</summary>
    public static async Task<EdgeProcess> StartAsync(IReadOnlyDictionary<string, string?> config, IReadOnlyDictionary<string, string>? environment = null)
    {
        var edge = new EdgeProcess(config, environment);
        await edge.StartAgainAsync();
        return edge;
    }

    /// <summary>Starts the process (again, on the same ports) and waits until its admin listener answers /healthz (not /readyz).</summary>
    public Task StartAgainAsync() => _process.StartAsync(AdminUrl + "/healthz");

    /// <summary>kill -9: no shutdown.</summary>
    public void Kill() => _process.Kill();

    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
