using System.Diagnostics;
using System.Globalization;
using System.Text;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Faults;

/// <summary>
/// The edge as a separate process (the build of src/EdgeProxy), on fixed loopback ports, so a test can kill it (-9) and
/// start it again where clients expect it. Configuration is passed as command-line keys.
/// </summary>
internal sealed class EdgeProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private readonly string[] _arguments;
    private Process? _process;

    private EdgeProcess(IReadOnlyDictionary<string, string?> config)
    {
        var port = ChildProcess.FreePort();
        var admin = ChildProcess.FreePort();
        Url = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        AdminUrl = $"http://127.0.0.1:{admin.ToString(CultureInfo.InvariantCulture)}";
        _arguments =
        [
            BuildOutput.Dll("EdgeProxy", "Authio.EdgeProxy.dll"), $"--urls={Url}", "--environment=Production", "--Logging:LogLevel:Default=Warning",
            .. config.Where(c => c.Key != "Edge:AdminUrls" && c.Value is not null).Select(c => $"--{c.Key}={c.Value}"),
            $"--Edge:AdminUrls={AdminUrl}",
        ];
    }

    public string Url { get; }

    public string AdminUrl { get; }

    /// <summary>The running process's id (for its resident memory in /proc).</summary>
    public int Pid => _process!.Id;

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

    public static async Task<EdgeProcess> StartAsync(IReadOnlyDictionary<string, string?> config)
    {
        var edge = new EdgeProcess(config);
        await edge.StartAgainAsync();
        return edge;
    }

    /// <summary>Starts the process (again, on the same ports) and waits until its admin listener answers /healthz (not /readyz).</summary>
    public async Task StartAgainAsync()
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
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            Assert.False(_process.HasExited, "the edge exited: " + Output);
            try
            {
                using var response = await probe.GetAsync(AdminUrl + "/healthz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(50);
        }
        throw new InvalidOperationException("the edge did not start: " + Output);
    }

    /// <summary>kill -9: no shutdown.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
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
        Kill();
        _process?.Dispose();
        return ValueTask.CompletedTask;
    }
}
