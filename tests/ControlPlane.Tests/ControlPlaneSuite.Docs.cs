using System.Net;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task The_api_reference_has_an_introduction_selects_bearer_and_offers_no_ai_chat_or_deploy_toolbar()
    {
        var document = await (await F.Http.GetAsync("/openapi/v1.json")).BodyAsync(HttpStatusCode.OK);
        var intro = (string)document["info"]!["description"]!;
        Assert.Contains("POST /v1/auth/login", intro, StringComparison.Ordinal);
        Assert.Contains("org_id", intro, StringComparison.Ordinal);

        var page = await F.Http.GetStringAsync("/docs/");
        // Scalar's page carries its configuration as JSON: the Bearer scheme preselected, the hosted agent ("Ask AI")
        // disabled and the localhost developer toolbar (share/"Deploy") never shown.
        Assert.Contains("\"preferredSecurityScheme\":[\"Bearer\"]", page, StringComparison.Ordinal);
        Assert.Contains("\"agent\":{\"disabled\":true}", page, StringComparison.Ordinal);
        Assert.Contains("\"showDeveloperTools\":\"never\"", page, StringComparison.Ordinal);
    }
}
