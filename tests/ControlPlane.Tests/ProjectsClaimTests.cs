using Authio.ControlPlane.Tokens;
using Authio.Shared.Tokens;

namespace Authio.ControlPlane.Tests;

/// <summary>The <c>projects</c> claim stays bounded whatever a user holds, keeping the highest roles.</summary>
public sealed class ProjectsClaimTests
{
    [Fact]
    public void Many_or_long_project_ids_are_cut_keeping_the_highest_roles_first()
    {
        var many = Enumerable.Range(0, 200).ToDictionary(i => $"prj_{i:D3}", i => i == 150 ? "mod" : i % 2 == 0 ? "create" : "explore");
        var claim = TokenIssuer.ProjectsClaim(many)!;
        Assert.Equal(ClaimNames.MaxProjects, claim.Count);
        Assert.Equal("mod", claim["prj_150"]);
        Assert.All(claim.Values, role => Assert.NotEqual("explore", role));

        var longIds = Enumerable.Range(0, 60).ToDictionary(i => new string('p', 95) + i.ToString("D2"), _ => "create");
        var cut = TokenIssuer.ProjectsClaim(longIds)!;
        Assert.True(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(cut).Length <= ClaimNames.MaxProjectsJsonBytes);
        Assert.NotEmpty(cut);

        Assert.Null(TokenIssuer.ProjectsClaim(new Dictionary<string, string> { ["p"] = "owner" }));
        Assert.Null(TokenIssuer.ProjectsClaim(null));
    }
}
