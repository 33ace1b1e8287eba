using System.Net;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task A_user_of_several_orgs_is_told_which_org_ids_to_choose_from_only_with_the_right_password()
    {
        var admin = await F.AdminAsync();
        var (_, email) = await F.CreateUserAsync("mod", admin);
        var founder = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var orgA = (string)(await (await F.SendAsync(HttpMethod.Get, "/v1/org", founder.Access)).BodyAsync(HttpStatusCode.OK))["id"]!;
        var orgB = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", founder.Access, new { name = "Second" })).BodyAsync(HttpStatusCode.Created))["id"]!;

        var ambiguous = await (await F.LoginAsync(email, ControlPlaneFixture.DefaultPassword)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var message = (string)ambiguous["errors"]!["org_id"]![0]!;
        Assert.Contains(orgA, message, StringComparison.Ordinal);
        Assert.Contains($"{orgB} (Second)", message, StringComparison.Ordinal);
        // Oldest org first, so a script can take the first one for "the org I started in".
        Assert.True(message.IndexOf(orgA, StringComparison.Ordinal) < message.IndexOf(orgB, StringComparison.Ordinal));
        await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgB);

        // Without the password nothing about the account's orgs is revealed.
        var wrong = await (await F.LoginAsync(email, "Wrong!passw0rd")).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.DoesNotContain(orgB, wrong.ToJsonString(), StringComparison.Ordinal);
    }
}
