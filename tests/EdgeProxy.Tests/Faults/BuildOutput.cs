namespace Authio.EdgeProxy.Tests.Faults;

/// <summary>A server's build output beside the tests' (the solution is built as a whole), in the tests' configuration.</summary>
internal static class BuildOutput
{
    public static string Dll(string project, string assembly)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Authio.Edge.sln")))
        {
            dir = dir.Parent;
        }
        var dll = dir is null ? "" : Path.Combine(dir.FullName, "src", project, "bin", configuration, "net10.0", assembly);
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"build output not found ({dll}): build the solution first");
    }
}
