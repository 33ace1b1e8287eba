using System.Text.Json;
using Authio.EdgeProxy.Tests.Deploy;
using Authio.Load.Tools.Kit;

namespace Authio.EdgeProxy.Tests.LoadKit;

/// <summary>
/// Every scenario in load/scenarios/ (JSON and YAML) reads as the runner and load/kit.sh will read it: a name matching
/// its file (kit.sh finds scenarios by file name), a valid arrival model, and credentials kit.sh knows how to mint.
/// </summary>
public sealed class ShippedScenarioTests
{
    public static TheoryData<string> Files()
    {
        var files = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(DeployedQueries.RepoRoot(), "load", "scenarios")).Order())
        {
            files.Add(Path.GetFileName(file));
        }
        return files;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task A_shipped_scenario_reads_as_the_kit_expects(string file)
    {
        using var output = new StringWriter();
        var exit = await LoadKitCli.RunAsync(["scenario", "--scenario", Path.Combine(DeployedQueries.RepoRoot(), "load", "scenarios", file)], output);

        Assert.True(exit == 0, output.ToString());
        using var json = JsonDocument.Parse(output.ToString());
        var scenario = json.RootElement;
        Assert.Equal(Path.GetFileNameWithoutExtension(file), scenario.GetProperty("name").GetString());
        Assert.Contains(scenario.GetProperty("arrival").GetProperty("model").GetString(), new[] { "open", "closed" });
        var kind = scenario.GetProperty("credentials").GetProperty("mint").GetProperty("kind").GetString();
        Assert.Contains(kind, new[] { "jwt", "api-key", "expired", "forged" });
        Assert.Equal(kind == "api-key", scenario.GetProperty("stack").GetProperty("controlPlane").GetBoolean());
    }
}
