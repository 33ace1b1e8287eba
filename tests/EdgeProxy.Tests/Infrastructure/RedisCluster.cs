using System.Diagnostics;
using StackExchange.Redis;

namespace Authio.EdgeProxy.Tests.Infrastructure;

/// <summary>A Redis the tests may flush and kill: one server or a cluster.</summary>
public interface ITestRedis : IAsyncDisposable
{
    string ConnectionString { get; }

    /// <summary>Removes every key (as a Redis restarted without persistence would have lost them).</summary>
    Task FlushAllAsync();

    void Kill();
}

/// <summary>
/// A real three-master Redis Cluster on free loopback ports (<c>redis-server --cluster-enabled yes</c> ×3, then
/// <c>redis-cli --cluster create</c>): what an edge fleet on Redis Cluster talks to. Needs redis-server and redis-cli
/// (scripts/services/redis.sh installs both).
/// </summary>
public sealed class RedisClusterProcess : ITestRedis
{
    private readonly string _directory = Directory.CreateTempSubdirectory("authio-redis-cluster").FullName;
    private readonly List<Process> _nodes = [];
    private readonly int[] _ports;

    private RedisClusterProcess(int[] ports) => _ports = ports;

    public string ConnectionString => string.Join(",", _ports.Select(p => $"127.0.0.1:{p}")) + ",abortConnect=false,connectTimeout=2000,syncTimeout=2000";

    public static async Task<RedisClusterProcess> StartAsync()
    {
        var ports = new List<int>();
        while (ports.Count < 3)
        {
            var port = ClusterPort();
            if (!ports.Contains(port) && !ports.Contains(port + BusOffset) && !ports.Contains(port - BusOffset))
            {
                ports.Add(port);
            }
        }
        var cluster = new RedisClusterProcess([.. ports]);
        try
        {
            await cluster.CreateAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    // Each node also listens on its port + 10 000 (the cluster bus): both must be free, and the bus port must exist.
    private const int BusOffset = 10_000;

    private static int ClusterPort()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(20_000, 55_000);
            if (IsFree(port) && IsFree(port + BusOffset))
            {
                return port;
            }
            if (attempt > 1_000)
            {
                throw new InvalidOperationException("no free port pair for a cluster node");
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static string Server => Environment.GetEnvironmentVariable("AUTHIO_REDIS_SERVER") ?? "redis-server";

    private static string Cli => Path.Combine(Path.GetDirectoryName(Server) is { Length: > 0 } dir ? dir : "", "redis-cli") is var cli && File.Exists(cli) ? cli : "redis-cli";

    private async Task CreateAsync()
    {
        foreach (var port in _ports)
        {
            var dir = Directory.CreateDirectory(Path.Combine(_directory, port.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
            _nodes.Add(Process.Start(new ProcessStartInfo(Server,
                $"--bind 127.0.0.1 --port {port} --dir {dir} --save \"\" --appendonly no --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!);
        }
        foreach (var port in _ports)
        {
            await RunCliAsync($"-h 127.0.0.1 -p {port} --no-raw ping", expect: "PONG", attempts: 100);
        }
        await RunCliAsync($"--cluster create {string.Join(" ", _ports.Select(p => $"127.0.0.1:{p}"))} --cluster-replicas 0 --cluster-yes", expect: "[OK] All 16384 slots covered", attempts: 1);
        foreach (var port in _ports)
        {
            await RunCliAsync($"-h 127.0.0.1 -p {port} cluster info", expect: "cluster_state:ok", attempts: 100);
        }
    }

    private static async Task RunCliAsync(string arguments, string expect, int attempts)
    {
        var output = "";
        for (var i = 0; i < attempts; i++)
        {
            using var cli = Process.Start(new ProcessStartInfo(Cli, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            var read = cli.StandardOutput.ReadToEndAsync();
            var errors = cli.StandardError.ReadToEndAsync();
            await cli.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            output = await read + await errors;
            if (output.Contains(expect, StringComparison.Ordinal))
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"redis-cli {arguments}: expected '{expect}', got: {output}");
    }

    public async Task FlushAllAsync()
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true");
        foreach (var endpoint in admin.GetEndPoints())
        {
            var server = admin.GetServer(endpoint);
            if (!server.IsReplica)
            {
                await server.FlushAllDatabasesAsync();
            }
        }
    }

    public void Kill()
    {
        foreach (var node in _nodes.Where(n => !n.HasExited))
        {
            node.Kill(entireProcessTree: true);
            node.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
