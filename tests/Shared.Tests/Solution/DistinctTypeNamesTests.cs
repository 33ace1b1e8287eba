namespace Authio.Shared.Tests.Solution;

/// <summary>
/// Distinct types have distinct names across the solution: two services each with a <c>BucketTable</c> or a
/// <c>TokenOptions</c> make a reader (and a search) guess which one is meant. The rule is in
/// <see cref="TypeNameScan.Duplicates"/>.
/// </summary>
public sealed class DistinctTypeNamesTests
{
    [Fact]
    public void No_two_types_in_src_share_a_name()
    {
        var root = RepoRoot();
        var declarations = new List<TypeDeclaration>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.Contains("/bin/", StringComparison.Ordinal) || relative.Contains("/obj/", StringComparison.Ordinal))
            {
                continue;
            }
            declarations.AddRange(TypeNameScan.Declarations(relative, File.ReadAllText(file)));
        }
        Assert.True(declarations.Count > 100, $"only {declarations.Count} type declarations found under src/");
        var duplicates = TypeNameScan.Duplicates(declarations);
        Assert.True(duplicates.Count == 0, "These names are given to more than one type; give each type a name of its own:\n"
            + string.Join('\n', duplicates));
    }

    [Fact]
    public void The_scan_finds_clashing_names_and_nothing_else()
    {
        // Guards the guard on a sample: what must be reported, and what must not.
        var first = """
            namespace One.Edge;

            internal sealed class TokenOptions { }                  // clashes with Two.Control.TokenOptions
            internal sealed partial class Cache                     // partial: one type in two files
            {
                internal sealed class Entry { }                     // nested, read as Cache.Entry
                private static partial class Log { }                // every type's Log partial
                internal sealed class Settings { }                  // visible nested type named like a top-level type
            }
            internal readonly record struct Verdict(bool Ok);
            internal delegate void Handler<T>(T value);
            """;
        var second = """
            namespace One.Edge
            {
                internal sealed partial class Cache
                {
                    private static partial class Log { }
                }
            }
            """;
        var third = """
            namespace Two.Control;

            // class Verdict in a comment and "enum Handler" in a string are not declarations.
            internal sealed class TokenOptions { const string S = "enum Handler"; }
            internal sealed class Settings { }
            internal interface IStore { }
            internal sealed class Limiter
            {
                private struct Verdict { }                          // private nested: invisible elsewhere
                struct IStore { }                                   // no modifier: private
                internal sealed class Entry { }
                private static partial class Log { }
            }
            file sealed class Cache { }                             // file-local: invisible elsewhere
            internal enum Kind { A }
            """;
        var declarations = TypeNameScan.Declarations("a.cs", first)
            .Concat(TypeNameScan.Declarations("b.cs", second))
            .Concat(TypeNameScan.Declarations("c.cs", third)).ToList();

        Assert.Contains(declarations, d => d.FullName == "One.Edge.Handler`1" && !d.Nested);
        Assert.Contains(declarations, d => d.FullName == "Two.Control.Kind");
        Assert.Contains(declarations, d => d.FullName == "One.Edge.Cache.Log" && d.Nested && d.Private);
        Assert.Contains(declarations, d => d.FullName == "Two.Control.Limiter.IStore" && d.Private);
        Assert.DoesNotContain(declarations, d => d.File == "c.cs" && d.Name == "Handler");
        Assert.Equal(
            [
                "Settings: Two.Control.Settings (c.cs:5), One.Edge.Cache.Settings (a.cs:8)",
                "TokenOptions: One.Edge.TokenOptions (a.cs:3), Two.Control.TokenOptions (c.cs:4)",
            ],
            TypeNameScan.Duplicates(declarations));
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Authio.Edge.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Authio.Edge.sln not found above " + AppContext.BaseDirectory);
    }
}
