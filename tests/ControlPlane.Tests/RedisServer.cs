using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Authio.ControlPlane.Tests;

/// <summary>A test that needs the redis-server binary (the test command installs it); under CI it must run.</summary>
public sealed class RedisServerFactAttribute : FactAttribute
{
    public static string? Binary => Environment.GetEnvironmentVariable("AUTHIO_REDIS_SERVER") is { Length: > 0 } configured ? configured
        : File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : null;

    public RedisServerFactAttribute()
    {
        if (Binary is null && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "redis-server not found: run `source scripts/services/redis.sh && authio_redis_start` first (bash scripts/test.sh does).";
        }
    }
}

/// <summary>A private redis-server on a free loopback port, which a test may kill.</summary>
public sealed class TestRedisServer : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("authio-cp-redis").FullName;
    private Process? _process;

    public int Port { get; } = FreePort();

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=1000,syncTimeout=1000";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<TestRedisServer> StartAsync()
    {
        var redis = new TestRedisServer();
        var arguments = $"--bind 127.0.0.1 --port {redis.Port} --dir {redis._directory} --save \"\" --appendonly no";
        redis._process = Process.Start(new ProcessStartInfo(RedisServerFactAttribute.Binary ?? "redis-server", arguments)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, redis.Port);
                return redis;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new InvalidOperationException("redis-server did not start");
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
