using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.SigningKeys;
using Microsoft.Extensions.Logging.Abstractions;

namespace Authio.ControlPlane.Tests;

public sealed class MasterKeyFileTests
{
    [Fact]
    public void Generated_master_key_is_owner_only_complete_and_reused()
    {
        var dir = Path.Combine(Path.GetTempPath(), "authio-mk-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new ControlPlaneOptions { DataDirectory = dir };
            var first = MasterKey.Load(options, NullLogger.Instance);
            var path = Path.Combine(dir, "master.key");
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }
            // Only the key file and the (empty, owner-only) lock that instances starting together take turns on: no
            // temporary left behind.
            Assert.Equal(["master.key", "master.key.lock"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());
            Assert.Equal(0, new FileInfo(path + ".lock").Length);
            Assert.Equal(first.Bytes, Convert.FromBase64String(File.ReadAllText(path)));
            Assert.Equal(first.Bytes, MasterKey.Load(options, NullLogger.Instance).Bytes);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public void Instances_starting_together_agree_on_one_key()
    {
        var dir = Path.Combine(Path.GetTempPath(), "authio-mk-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new ControlPlaneOptions { DataDirectory = dir };
            var keys = new byte[8][];
            Parallel.For(0, keys.Length, i => keys[i] = MasterKey.Load(options, NullLogger.Instance).Bytes);
            Assert.All(keys, k => Assert.Equal(keys[0], k));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
