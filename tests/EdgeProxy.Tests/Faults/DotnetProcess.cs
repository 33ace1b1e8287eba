using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Authio.EdgeProxy.Tests.Faults;

/// <summary>
/// A `dotnet &lt;dll&gt; …` child process that a fault test starts, waits for, kills (-9), pauses (SIGSTOP) and starts
/// again with the same arguments; its output is kept for failure messages.
/// </summary>
internal sealed class DotnetProcess(string what, string[] arguments, IReadOnlyDictionary<string, string>? environment = null) : IDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    public int Pid => _process!.Id;

    public bool Running => _process is { HasExited: false };

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

    /// <summary>Starts the process (again) and waits up to 60 s until <paramref name="readyUrl"/> answers 2xx.</summary>
    public async Task StartAsync(string readyUrl)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
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
            Assert.False(_process.HasExited, $"the {what} exited: " + Output);
            try
            {
                using var response = await probe.GetAsync(readyUrl);
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
        throw new InvalidOperationException($"the {what} did not start: " + Output);
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

    /// <summary>Sends a signal (<c>-STOP</c>, <c>-CONT</c>) with kill(1).</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process!.Id.ToString(CultureInfo.InvariantCulture)])!;
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

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
    }
}
