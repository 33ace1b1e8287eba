using System.Text.Json;

namespace Authio.EdgeProxy.Tests.Infrastructure;

/// <summary>Project Wycheproof vectors, read in place from <c>../shared/testvectors/wycheproof</c> beside the project root.</summary>
public static class Wycheproof
{
    public static readonly string? Directory = Find();

    public static JsonElement Load(string name) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Directory!, name))).RootElement;

    public static IEnumerable<(JsonElement Group, JsonElement Test)> Tests(string name)
    {
        foreach (var group in Load(name).GetProperty("testGroups").EnumerateArray())
        {
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                yield return (group, test);
            }
        }
    }

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Authio.Edge.sln")))
            {
                var candidate = Path.Combine(dir.Parent?.FullName ?? dir.FullName, "shared", "testvectors", "wycheproof");
                return System.IO.Directory.Exists(candidate) ? candidate : null;
            }
        }
        return null;
    }
}

/// <summary>A fact that is skipped, with the reason shown, when the shared Wycheproof folder is absent.</summary>
public sealed class WycheproofFactAttribute : FactAttribute
{
    public WycheproofFactAttribute()
    {
        if (Wycheproof.Directory is null)
        {
            Skip = "Wycheproof vectors not found: expected ../shared/testvectors/wycheproof beside the project root.";
        }
    }
}
