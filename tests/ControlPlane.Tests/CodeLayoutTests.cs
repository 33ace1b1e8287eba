using System.Text.RegularExpressions;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// Where things live in src/ (control plane, edge, shared): log messages only in <c>X.Log.cs</c> partials (so a class's logging is one
/// file to read and event ids are easy to audit), and no issue numbers in comments (the code says why, not which ticket).
/// </summary>
public sealed partial class CodeLayoutTests
{
    [GeneratedRegex(@"\[LoggerMessage\b|LoggerMessage\.Define\b|\.Log(Trace|Debug|Information|Warning|Error|Critical)\s*\(")]
    private static partial Regex LoggingCall();

    [GeneratedRegex(@"//.*\bissues?\s*#?\d+", RegexOptions.IgnoreCase)]
    private static partial Regex IssueReference();

    [Fact]
    public void Logging_is_declared_only_in_log_partials()
    {
        var offences = Scan((relative, line) => !relative.EndsWith(".Log.cs", StringComparison.Ordinal) && LoggingCall().IsMatch(line));
        Assert.True(offences.Count == 0,
            "Declare log messages with [LoggerMessage] in the class's X.Log.cs partial (event ids from the one registry of each service):\n"
            + string.Join('\n', offences));
    }

    [Fact]
    public void Comments_cite_no_issue_numbers()
    {
        var offences = Scan((_, line) => IssueReference().IsMatch(line));
        Assert.True(offences.Count == 0, "Say why in the comment instead of citing an issue:\n" + string.Join('\n', offences));
    }

    [Fact]
    public void The_scans_recognise_what_they_look_for()
    {
        Assert.Matches(LoggingCall(), "    [LoggerMessage(EventId = LogEvents.X, Level = LogLevel.Warning, Message = \"m\")]");
        Assert.Matches(LoggingCall(), "logger.LogWarning(\"m\");");
        Assert.DoesNotMatch(LoggingCall(), "Log.PollFailed(logger, ex);");
        Assert.Matches(IssueReference(), "/// positives there (issue 5), so an edge");
        Assert.DoesNotMatch(IssueReference(), "// The issuer is checked first.");
    }

    private static List<string> Scan(Func<string, string, bool> offends)
    {
        var offences = new List<string>();
        foreach (var project in new[] { "ControlPlane", "EdgeProxy", "Shared" })
        {
            var root = Path.Combine(RepoRoot(), "src", project);
            foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
                if (relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal))
                {
                    continue;
                }
                var lines = File.ReadAllLines(file);
                for (var i = 0; i < lines.Length; i++)
                {
                    if (offends(relative, lines[i]))
                    {
                        offences.Add($"src/{project}/{relative}:{i + 1}: {lines[i].Trim()}");
                    }
                }
            }
        }
        return offences;
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
