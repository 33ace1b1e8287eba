using System.Collections.Frozen;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;

namespace Authio.ControlPlane.AdminConsole;

/// <summary>One static file of the console: its bytes, gzipped bytes, media type and a strong ETag.</summary>
internal sealed record ConsoleAsset(byte[] Body, byte[] Gzip, string ContentType, string ETag);

/// <summary>
/// The console's static files, embedded in the assembly (<c>wwwroot/**</c>, logical names <c>console/…</c>) and read
/// once at start: nothing to deploy beside the binary, and the files cannot drift from the code that serves them.
/// </summary>
internal sealed class ConsoleAssets
{
    private const string Prefix = "console/";

    private static readonly FrozenDictionary<string, string> Types = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".ico"] = "image/x-icon",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    public ConsoleAssets()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var files = new Dictionary<string, ConsoleAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var path = name[Prefix.Length..].Replace('\\', '/');
            if (!Types.TryGetValue(Path.GetExtension(path), out var type))
            {
                continue;
            }

            var body = Read(assembly, name);
            files[path] = new ConsoleAsset(body, Compress(body), type, "\"" + Convert.ToHexStringLower(SHA256.HashData(body))[..32] + "\"");
        }

        Files = files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Relative path (<c>app.js</c>, <c>views/users.js</c>) → asset.</summary>
    public FrozenDictionary<string, ConsoleAsset> Files { get; }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    private static byte[] Compress(byte[] body)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.SmallestSize))
        {
            gzip.Write(body);
        }

        return memory.ToArray();
    }
}
