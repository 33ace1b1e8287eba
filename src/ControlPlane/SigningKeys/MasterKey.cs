using System.Security.Cryptography;
using Authio.ControlPlane.Hosting;

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
        if (!string.IsNullOrWhiteSpace(options.MasterKey)) return new MasterKey(Decode(options.MasterKey, ConfigKey));
        // Embedded default only: a key beside the data it protects is convenience, not security.
        var path = Path.Combine(options.DataDirectory, FileName);
        if (File.Exists(path)) return new MasterKey(Decode(File.ReadAllText(path).Trim(), ConfigKey + " (file " + path + ")"));
        Directory.CreateDirectory(options.DataDirectory);
        var bytes = RandomNumberGenerator.GetBytes(32);
        File.WriteAllText(path, Convert.ToBase64String(bytes));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Log.Generated(logger, path);
        return new MasterKey(bytes);
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
            throw new ConfigException(key, "must be base64.");
        }
        return bytes.Length == 32 ? bytes : throw new ConfigException(key, $"must decode to 32 bytes, got {bytes.Length}.");
    }
}
