using Authio.EdgeProxy.Demo;
using Microsoft.Extensions.Configuration;

namespace Authio.EdgeProxy.Tests.Hosting;

public sealed class DemoStackFileTests
{
    [Fact]
    public async Task Demo_key_set_lives_in_a_private_randomly_named_directory_removed_on_dispose()
    {
        var config = new ConfigurationManager();
        var first = DemoStack.Configure(config);
        var second = DemoStack.Configure(new ConfigurationManager());
        var path = first.JwksPath;
        var dir = Path.GetDirectoryName(path)!;
        try
        {
            Assert.Equal(path, config["Edge:Issuers:90:JwksUri"]);
            Assert.True(File.Exists(path));
            // Not a name another local user can predict (and pre-create) from the process id.
            Assert.DoesNotContain(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), Path.GetFileName(dir), StringComparison.Ordinal);
            Assert.NotEqual(dir, Path.GetDirectoryName(second.JwksPath));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
            }
        }
        finally
        {
            await first.DisposeAsync();
            await second.DisposeAsync();
        }
        Assert.False(Directory.Exists(dir));
    }
}
