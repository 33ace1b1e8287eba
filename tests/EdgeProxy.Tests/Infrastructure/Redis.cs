using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Authio.EdgeProxy.Tests.Infrastructure;

/// <summary>
/// A test that needs a real Redis. The test command starts one (scripts/services/redis.sh) and exports
/// AUTHIO_TEST_REDIS; without it the test is skipped with the reason shown, except under CI where it must run.
/// </summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("AUTHIO_TEST_REDIS") is null && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "AUTHIO_TEST_REDIS is not set: run `source scripts/services/redis.sh && authio_redis_start` first (bash scripts/test.sh does).";
        }
    }
}

/// <summary>A private redis-server on a free loopback port that a test may kill and restart (e.g. to prove fail-over).</summary>
public sealed class RedisProcess : ITestRedis
{
    private readonly string _directory = Directory.CreateTempSubdirectory("authio-redis-test").FullName;
    private Process? _process;

    private RedisProcess(int port) => Port = port;

    public int Port { get; }
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=500,syncTimeout=500";

    public static async Task<RedisProcess> StartAsync()
    {
        var redis = new RedisProcess(ChildProcess.FreePort());
        await redis.RestartAsync();
        return redis;
    }

    public async Task RestartAsync()
    {
        var binary = Environment.GetEnvironmentVariable("AUTHIO_REDIS_SERVER") ?? "redis-server";
        _process = Process.Start(new ProcessStartInfo(binary, $"--bind 127.0.0.1 --port {Port} --dir {_directory} --save \"\" --appendonly no")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new InvalidOperationException("redis-server did not start");
    }

    public async Task FlushAllAsync()
    {
        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true");
        await admin.GetServer(admin.GetEndPoints()[0]).FlushAllDatabasesAsync();
    }

    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }


    public ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A wall-clock accuracy measurement (seconds of real traffic, a percentage bound). Timings belong in load runs, not in
/// the pass/fail suite on a noisy 2-core machine, so it runs only when asked: <c>load/ratelimit/fleet.sh</c> sets
/// AUTHIO_LOAD_TESTS=1 (and starts Redis).
/// </summary>
public sealed class LoadFactAttribute : FactAttribute
{
    public LoadFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("AUTHIO_LOAD_TESTS") != "1")
        {
            Skip = "Load measurement: run load/ratelimit/fleet.sh (sets AUTHIO_LOAD_TESTS=1 and starts Redis).";
        }
    }
}
