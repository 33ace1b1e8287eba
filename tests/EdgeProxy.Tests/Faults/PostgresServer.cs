using System.Diagnostics;
using System.Globalization;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.Faults;

/// <summary>
/// A private PostgreSQL server (initdb in a temp directory, loopback port) that a test may stop abruptly and start again
/// on the same data — the shared server of <c>scripts/services/pg.sh</c> serves other tests and must stay up. Uses the
/// binaries that script installed (<c>AUTHIO_PG_BINDIR</c>, else the newest <c>/usr/lib/postgresql/*/bin</c>); as root
/// the server runs as <c>postgres</c>, since PostgreSQL refuses to run as root.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _bin;
    private readonly int _port = ChildProcess.FreePort();

    private PostgresServer(string directory, string bin)
    {
        _directory = directory;
        _bin = bin;
    }

    /// <summary>Superuser, trust authentication on loopback.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Password=unused;Timeout=5;Command Timeout=15";

    private static bool IsRoot => Environment.UserName == "root";

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = Environment.GetEnvironmentVariable("AUTHIO_PG_BINDIR") is { Length: > 0 } b ? b
            : Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                    .OrderBy(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).LastOrDefault()
                : null;
        Assert.True(bin is not null, "PostgreSQL binaries not found (scripts/services/pg.sh installs them)");
        var server = new PostgresServer(Directory.CreateTempSubdirectory("authio-faults-pg").FullName, bin!);
        if (IsRoot)
        {
            await RunAsync("chown", "postgres:postgres", server._directory);
        }
        await server.RunPgAsync("initdb", "-D", server.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync");
        await server.StartAgainAsync();
        return server;
    }

    private string Data => Path.Combine(_directory, "data");

    public Task StartAgainAsync() => RunPgAsync("pg_ctl", "-D", Data, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60", "-o",
        $"-c listen_addresses=127.0.0.1 -p {_port.ToString(CultureInfo.InvariantCulture)} -c unix_socket_directories={_directory} -c fsync=off -c max_connections=100",
        "start");

    /// <summary>Immediate shutdown: every backend is killed at once, mid-transaction; the restart replays the WAL.</summary>
    public Task StopImmediatelyAsync() => RunPgAsync("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop");

    private Task RunPgAsync(string tool, params string[] arguments) => IsRoot
        ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. arguments])
        : RunAsync(Path.Combine(_bin, tool), arguments);

    private static async Task RunAsync(string binary, params string[] arguments)
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        Assert.True(process.ExitCode == 0, $"{binary} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await error}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunPgAsync("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop");
        }
        catch (Exception error) when (error is Xunit.Sdk.XunitException or TimeoutException)
        {
            // Already stopped.
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
