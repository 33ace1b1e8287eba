using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Deploy;

/// <summary>
/// A test that needs the real Prometheus server. The test command installs it (scripts/services/prometheus.sh exports
/// AUTHIO_PROMETHEUS); without it the test is skipped with the reason shown, except under CI where it must run.
/// </summary>
public sealed class PrometheusFactAttribute : FactAttribute
{
    public PrometheusFactAttribute()
    {
        if (PrometheusProcess.Binary is null && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "prometheus is not installed: run `source scripts/services/prometheus.sh && authio_prometheus_start` first (bash scripts/test.sh does).";
        }
    }
}

/// <summary>A private Prometheus server on a free loopback port with a throwaway data directory.</summary>
public sealed class PrometheusProcess : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("authio-prometheus-test").FullName;
    private ChildProcess? _process;

    private PrometheusProcess(int port) => Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The prometheus binary: AUTHIO_PROMETHEUS, else the Debian package's path when present.</summary>
    public static string? Binary =>
        Environment.GetEnvironmentVariable("AUTHIO_PROMETHEUS") is { Length: > 0 } configured ? configured
        : File.Exists("/usr/bin/prometheus") ? "/usr/bin/prometheus" : null;

    public HttpClient Http { get; }

    /// <summary>What the server printed, for failure messages.</summary>
    public string Output => _process?.Output ?? "";

    /// <summary>Starts Prometheus with <paramref name="configYaml"/> (rule files resolved by their absolute paths) and waits until it is ready.</summary>
    public static async Task<PrometheusProcess> StartAsync(string configYaml)
    {
        var binary = Binary ?? throw new InvalidOperationException("prometheus not found: set AUTHIO_PROMETHEUS or install the Debian package 'prometheus'");
        var port = ChildProcess.FreePort();
        var prometheus = new PrometheusProcess(port);
        var config = Path.Combine(prometheus._directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, configYaml);
        prometheus._process = ChildProcess.Start(binary, prometheus._directory,
            $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(prometheus._directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn");

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && !prometheus._process.HasExited)
        {
            try
            {
                using var ready = await prometheus.Http.GetAsync("/-/ready");
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return prometheus;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        var output = prometheus.Output;
        await prometheus.DisposeAsync();
        throw new InvalidOperationException("prometheus did not become ready within 30 s:\n" + output);
    }

    /// <summary>Runs an instant query; returns the number of series (or 1 for a scalar) and Prometheus' error, if any.</summary>
    public async Task<(int Series, string? Error)> QueryAsync(string promql)
    {
        using var response = await Http.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(promql));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            return (0, root.TryGetProperty("error", out var error) ? error.GetString() : response.StatusCode.ToString());
        }
        var data = root.GetProperty("data");
        return data.GetProperty("resultType").GetString() is "vector" or "matrix"
            ? (data.GetProperty("result").GetArrayLength(), null)
            : (1, null);
    }

    /// <summary>The loaded alerting and recording rules: group, name, expression, health and last error.</summary>
    public async Task<IReadOnlyList<(string Group, string Name, string Query, string Health, string? LastError)>> RulesAsync()
    {
        using var json = JsonDocument.Parse(await Http.GetStringAsync("/api/v1/rules"));
        return json.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray().Select(r => (
                g.GetProperty("name").GetString()!,
                r.GetProperty("name").GetString()!,
                r.GetProperty("query").GetString()!,
                r.GetProperty("health").GetString()!,
                r.TryGetProperty("lastError", out var e) ? e.GetString() : null)))
            .ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_process is not null)
        {
            await _process.DisposeAsync(); // and the directory with it
        }
        else
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
