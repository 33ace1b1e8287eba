using Authio.Fuzz;

namespace Authio.EdgeProxy.Tests.Fuzzing;

/// <summary>
/// Every file of tests/fuzz/corpus through its fuzz target, as afl-fuzz would feed it: the seeds, and the inputs that once
/// crashed a target (crash-*), which stay in the corpus as regressions. A target throws only for a bug.
/// </summary>
public sealed class FuzzCorpusReplayTests
{
    public static TheoryData<string> Targets() => [.. FuzzTargets.All.Keys];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_corpus_input_runs_without_an_unexpected_exception(string target)
    {
        var folder = Path.Combine(RepositoryRoot(), "tests", "fuzz", "corpus", target);
        var files = Directory.GetFiles(folder).Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var exception = Record.Exception(() => FuzzTargets.All[target](File.ReadAllBytes(file)));
            Assert.True(exception is null, $"{Path.GetFileName(file)}: {exception}");
        }
    }

    private static string RepositoryRoot()
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
