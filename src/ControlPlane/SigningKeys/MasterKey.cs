using System.Security.Cryptography;
using Authio.ControlPlane.Hosting;
using Authio.Shared.Configuration;

namespace Authio.ControlPlane.SigningKeys;

/// <summary>The 32-byte key that seals signing keys at rest (<c>ControlPlane:MasterKey</c>).</summary>
internal sealed partial class MasterKey
{
    public const string ConfigKey = "ControlPlane:MasterKey";
    private const string FileName = "master.key";

    private MasterKey(byte[] bytes) => Bytes = bytes;

    public byte[] Bytes { get; }

    public static MasterKey Load(ControlPlaneOptions options, ILogger logger)
    {
        if (!string.IsNullOrWhiteSpace(options.MasterKey))
        {
            return new MasterKey(Decode(options.MasterKey, ConfigKey));
        }
        // Embedded default only: a key beside the data it protects is convenience, not security.
        var path = Path.Combine(options.DataDirectory, FileName);
        if (File.Exists(path))
        {
            return new MasterKey(Decode(File.ReadAllText(path).Trim(), ConfigKey + " (file " + path + ")"));
        }

        Directory.CreateDirectory(options.DataDirectory);
        // Instances starting together on one directory take turns (File.Move's no-overwrite check is not atomic on
        // Linux): the first creates the key, the others read it, or they would seal with different keys.
        using (AcquireGate(path + ".lock"))
        {
            if (File.Exists(path))
            {
                return new MasterKey(Decode(File.ReadAllText(path).Trim(), ConfigKey + " (file " + path + ")"));
            }

            var bytes = RandomNumberGenerator.GetBytes(32);
            if (!TryCreate(path, Convert.ToBase64String(bytes)))
            {
                return new MasterKey(Decode(File.ReadAllText(path).Trim(), ConfigKey + " (file " + path + ")"));
            }
            Log.Generated(logger, path);
            return new MasterKey(bytes);
        }
    }

    /// <summary>An exclusive lock on a file beside the key (an advisory lock, held by whoever has it open; kept, never deleted).</summary>
    private static FileStream AcquireGate(string lockPath)
    {
        var fileOptions = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return new FileStream(lockPath, fileOptions);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(10);
            }
        }
    }

    /// <summary>
    /// Writes the key to a uniquely named file created owner-only (0600 from the first byte: the mode is given to
    /// open(2), not applied afterwards), flushes it, then links it into place without replacing an existing file.
    /// Readers never see a partial or world-readable key.
    /// </summary>
    private static bool TryCreate(string path, string content)
    {
        var temp = path + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)) + ".tmp";
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var stream = new FileStream(temp, fileOptions))
            {
                stream.Write(System.Text.Encoding.ASCII.GetBytes(content));
                stream.Flush(flushToDisk: true);
            }
            try
            {
                File.Move(temp, path, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(path))
            {
                return false;
            }
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static byte[] Decode(string value, string key)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            throw new ConfigurationException(key, "must be base64.");
        }
        return bytes.Length == 32 ? bytes : throw new ConfigurationException(key, $"must decode to 32 bytes, got {bytes.Length}.");
    }
}
