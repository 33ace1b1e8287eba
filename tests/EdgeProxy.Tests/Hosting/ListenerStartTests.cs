using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Authio.EdgeProxy.Hosting;
using Authio.EdgeProxy.Tests.Faults;
using Authio.EdgeProxy.Tests.Infrastructure;
using Authio.Shared.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Authio.EdgeProxy.Tests.Hosting;

/// <summary>
/// A listener whose address another process already holds: start-up stops with one line naming the setting that chose
/// the address (exit code 2, as for any bad configuration), not an unhandled exception and a core-dumping abort.
/// </summary>
public sealed class ListenerStartTests
{
    [Theory]
    [InlineData("Urls")]
    [InlineData("Edge:AdminUrls")]
    [InlineData("Edge:ForwardAuth:Urls")]
    public async Task A_taken_address_stops_the_edge_naming_the_setting(string key)
    {
        using var taken = Occupy(out var url);
        var config = EdgeTestHost.DefaultConfig("http://127.0.0.1:1/", "http://127.0.0.1:1/jwks.json");
        config["Urls"] = "http://127.0.0.1:0";
        config[key] = url;
        await using var edge = EdgeApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(config);
            b.Logging.ClearProviders();
        });
        var error = await Assert.ThrowsAsync<ConfigurationException>(() => edge.StartAsync());
        var problem = Assert.Single(error.Problems);
        Assert.StartsWith(key + " cannot be listened on: ", problem, StringComparison.Ordinal);
        Assert.Contains(url, problem, StringComparison.Ordinal);
        Assert.Contains("address already in use", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_edge_process_exits_2_with_one_line_when_its_port_is_taken()
    {
        using var taken = Occupy(out var url);
        var (exit, error) = await RunAsync(BuildOutput.Dll("EdgeProxy", "Authio.EdgeProxy.dll"),
            $"--urls={url}", "--Edge:AdminUrls=http://127.0.0.1:0", "--Edge:Issuers:0:Issuer=https://issuer.test/",
            "--Edge:Issuers:0:Audiences:0=api", "--Edge:Issuers:0:JwksUri=http://127.0.0.1:1/jwks.json");
        Assert.Equal(ConfigurationException.ExitCode, exit);
        Assert.Equal($"Configuration error: Urls cannot be listened on: Failed to bind to address {url}: address already in use.", error.Trim());
    }

    [Theory]
    [InlineData("--urls")]
    [InlineData("--ControlPlane:AdminUrls")]
    public async Task The_control_plane_process_exits_2_naming_the_setting_whose_port_is_taken(string option)
    {
        using var taken = Occupy(out var url);
        var data = Path.Combine(Path.GetTempPath(), "authio-bind-" + Guid.NewGuid().ToString("N"));
        try
        {
            string[] listeners = option == "--urls"
                ? [$"--urls={url}", "--ControlPlane:AdminUrls=http://127.0.0.1:0"]
                : ["--urls=http://127.0.0.1:0", $"--ControlPlane:AdminUrls={url}"];
            var (exit, error) = await RunAsync(ControlPlaneProcess.Binary, [.. listeners, $"--ControlPlane:DataDirectory={data}"]);
            Assert.Equal(ConfigurationException.ExitCode, exit);
            var key = option == "--urls" ? "Urls" : "ControlPlane:AdminUrls";
            Assert.Equal($"Configuration error: {key} cannot be listened on: Failed to bind to address {url}: address already in use.", error.Trim());
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    /// <summary>Holds a loopback port, as another process would.</summary>
    private static TcpListener Occupy(out string url)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        url = "http://127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        return listener;
    }

    private static async Task<(int Exit, string Error)> RunAsync(string dll, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["Logging__LogLevel__Default"] = "None";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        await output;
        return (process.ExitCode, await error);
    }
}
