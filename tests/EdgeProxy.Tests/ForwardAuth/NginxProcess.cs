using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Authio.EdgeProxy.Tests.Deploy;
using Authio.EdgeProxy.Tests.Infrastructure;

namespace Authio.EdgeProxy.Tests.ForwardAuth;

/// <summary>
/// A test that needs real nginx. The test command installs it (scripts/services/nginx.sh exports AUTHIO_NGINX); without
/// it the test is skipped with the reason shown, except under CI where it must run.
/// </summary>
public sealed class NginxFactAttribute : FactAttribute
{
    public NginxFactAttribute()
    {
        if (NginxProcess.Binary is null && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "nginx is not installed: run `source scripts/services/nginx.sh && authio_nginx_start` first (bash scripts/test.sh does).";
        }
    }
}

/// <summary>
/// nginx running <c>deploy/forward-auth/nginx.conf</c> as shipped, with only its three addresses replaced (the edge's
/// forward-auth listener, the application, nginx's own port), in a throwaway prefix directory.
/// </summary>
public sealed class NginxProcess : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("authio-nginx-test").FullName;
    private ChildProcess? _process;

    private NginxProcess(int port) => Url = $"http://127.0.0.1:{port}";

    public static string? Binary =>
        Environment.GetEnvironmentVariable("AUTHIO_NGINX") is { Length: > 0 } configured ? configured
        : File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : null;

    public string Url { get; }

    public string Output =>
        _process?.Output + (File.Exists(Path.Combine(_directory, "error.log")) ? File.ReadAllText(Path.Combine(_directory, "error.log")) : "");

    /// <param name="edgeForwardAuth">The edge's forward-auth listener, e.g. <c>http://127.0.0.1:40123</c>.</param>
    /// <param name="application">The application nginx protects.</param>
    public static async Task<NginxProcess> StartAsync(string edgeForwardAuth, string application)
    {
        var binary = Binary ?? throw new InvalidOperationException("nginx not found: set AUTHIO_NGINX or install the Debian package 'nginx-light'");
        var port = ChildProcess.FreePort();
        var nginx = new NginxProcess(port);
        var deploy = Path.Combine(DeployedQueries.RepoRoot(), "deploy", "forward-auth");
        var site = (await File.ReadAllTextAsync(Path.Combine(deploy, "nginx.conf")))
            .Replace("server 127.0.0.1:9002;", $"server {new Uri(edgeForwardAuth).Authority};", StringComparison.Ordinal)
            .Replace("server 127.0.0.1:8080;", $"server {new Uri(application).Authority};", StringComparison.Ordinal)
            .Replace("listen 8000;", $"listen 127.0.0.1:{port};", StringComparison.Ordinal);
        Assert.Contains(new Uri(edgeForwardAuth).Authority, site); // the shipped file still has the addresses this replaces
        await File.WriteAllTextAsync(Path.Combine(nginx._directory, "authio-forward-auth.conf"), site);
        File.Copy(Path.Combine(deploy, "authio-check.conf"), Path.Combine(nginx._directory, "authio-check.conf"));
        var temp = Path.Combine(nginx._directory, "temp");
        Directory.CreateDirectory(temp);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, (UnixFileMode)0x1FF); // nginx's workers may run as another user
        }
        await File.WriteAllTextAsync(Path.Combine(nginx._directory, "nginx.conf"), $$"""
            daemon off;
            worker_processes 1;
            pid {{nginx._directory}}/nginx.pid;
            error_log {{nginx._directory}}/error.log warn;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path {{temp}}/body;
                proxy_temp_path {{temp}}/proxy;
                fastcgi_temp_path {{temp}}/fastcgi;
                uwsgi_temp_path {{temp}}/uwsgi;
                scgi_temp_path {{temp}}/scgi;
                include authio-forward-auth.conf;
            }
            """);
        nginx._process = ChildProcess.Start(binary, nginx._directory, "-p", nginx._directory + "/", "-c", Path.Combine(nginx._directory, "nginx.conf"));

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20) && !nginx._process.HasExited)
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, port);
                return nginx;
            }
            catch (SocketException)
            {
            }
            await Task.Delay(50);
        }
        var output = nginx.Output;
        await nginx.DisposeAsync();
        throw new InvalidOperationException("nginx did not start within 20 s:\n" + output);
    }

    public async ValueTask DisposeAsync()
    {
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
