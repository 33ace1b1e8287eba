using System.Text.RegularExpressions;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// The control plane's layering: Endpoints → Service → Store, and SQL only in stores. A file outside <c>*Store.cs</c>
/// that imports Dapper, builds a command or holds a SQL statement in a string fails this test, naming the file and line.
/// </summary>
public sealed partial class LayeringTests
{
    /// <summary>
    /// The storage plumbing below the stores: the migrations (<c>Schema.cs</c>), the migrator that applies them, and
    /// <c>Db.cs</c>, which opens connections and sets the transaction's org for row-level security.
    /// </summary>
    private static readonly string[] StoragePlumbing = ["Storage/Schema.cs", "Storage/Migrator.cs", "Storage/Db.cs"];

    // A SQL statement at the start of a string literal, or on its own line of a raw (""") string.
    [GeneratedRegex("""("|^\s*)(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|CREATE\s+(TABLE|INDEX|FUNCTION|POLICY)\s|ALTER\s+TABLE\s|DROP\s+(TABLE|INDEX)\s|PRAGMA\s|WITH\s+\w+\s+AS\s*\()""")]
    private static partial Regex SqlStatement();

    [GeneratedRegex(@"^\s*using\s+Dapper\s*;|\.CommandText\b|\bCreateCommand\s*\(")]
    private static partial Regex DataAccess();

    [Fact]
    public void Sql_appears_only_in_store_files()
    {
        var root = Path.Combine(RepoRoot(), "src", "ControlPlane");
        var offences = new List<string>();
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal))
            {
                continue;
            }

            if (relative.EndsWith("Store.cs", StringComparison.Ordinal) || StoragePlumbing.Contains(relative))
            {
                continue;
            }

            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i];
                if (line.TrimStart().StartsWith("//", StringComparison.Ordinal))
                {
                    continue;
                }

                if (SqlStatement().IsMatch(line) || DataAccess().IsMatch(line))
                {
                    offences.Add($"src/ControlPlane/{relative}:{i + 1}: {line.Trim()}");
                }
            }
        }
        Assert.True(offences.Count == 0,
            "SQL belongs in a *Store.cs file (Endpoints → Service → Store); move these statements into the feature's store:\n"
            + string.Join('\n', offences));
    }

    [Fact]
    public void The_scan_recognises_sql_and_data_access()
    {
        // Guards the guard: the patterns must catch what they are meant to catch, and not the words in prose.
        Assert.Matches(SqlStatement(), "c.ExecuteAsync(\"DELETE FROM teams WHERE id = @id\")");
        Assert.Matches(SqlStatement(), "            SELECT name FROM api_key_scopes WHERE org_id = @orgId");
        Assert.Matches(SqlStatement(), "var sql = \"UPDATE api_keys SET revoked_at = @now\";");
        Assert.Matches(DataAccess(), "using Dapper;");
        Assert.Matches(DataAccess(), "cmd.CommandText = \"x\";");
        Assert.DoesNotMatch(SqlStatement(), "/// <summary>Select the org's keys and update them.</summary>");
        Assert.DoesNotMatch(SqlStatement(), "return Failure.Conflict(\"A team with this name already exists.\");");
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
