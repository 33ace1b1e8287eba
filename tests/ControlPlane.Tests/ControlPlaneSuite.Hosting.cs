using System.Net;
using System.Net.Http.Json;
using Authio.Shared.Errors;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task Discovery_documents()
    {
        var oidc = await (await F.Http.GetAsync("/.well-known/openid-configuration")).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("http://localhost:5100", (string?)oidc["issuer"]);
        Assert.Equal("http://localhost:5100/.well-known/jwks.json", (string?)oidc["jwks_uri"]);
        Assert.Contains("ES256", oidc["id_token_signing_alg_values_supported"]!.ToJsonString());
        var openapi = await (await F.Http.GetAsync("/openapi/v1.json")).BodyAsync(HttpStatusCode.OK);
        Assert.NotNull(openapi["paths"]!["/v1/auth/login"]);
        Assert.Equal("bearer", (string?)openapi["components"]!["securitySchemes"]!["Bearer"]!["scheme"]);
        Assert.NotNull(openapi["paths"]!["/v1/users"]!["get"]!["security"]);
        Assert.Null(openapi["paths"]!["/v1/auth/login"]!["post"]!["security"]);
        Assert.True((await F.Http.GetAsync("/docs/")).IsSuccessStatusCode);
        await (await F.Http.GetAsync("/v1/nothing-here")).ProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }

    [SuiteFact]
    public async Task A_second_instance_on_the_same_store_migrates_idempotently_and_shares_keys()
    {
        var users = await F.InspectAsync<long>("SELECT COUNT(*) FROM users");
        var keys = await F.InspectAsync<long>("SELECT COUNT(*) FROM signing_keys");
        var (app, http) = await F.StartAnotherInstanceAsync();
        await using (app)
        using (http)
        {
            Assert.Equal(users, await F.InspectAsync<long>("SELECT COUNT(*) FROM users"));
            Assert.Equal(keys, await F.InspectAsync<long>("SELECT COUNT(*) FROM signing_keys"));
            Assert.Equal((long)Storage.Schema.All.Length, await F.InspectAsync<long>("SELECT COUNT(*) FROM schema_migrations"));
            // A token from one instance works on the other.
            var r = await http.PostAsJsonAsync("/v1/auth/login", new { email = ControlPlaneFixture.AdminEmail, password = ControlPlaneFixture.AdminPassword });
            var token = (string)(await r.BodyAsync(HttpStatusCode.OK))["access_token"]!;
            await (await F.SendAsync(HttpMethod.Get, "/v1/users", token)).BodyAsync(HttpStatusCode.OK);
            await app.StopAsync();
        }
    }

    [SuiteFact]
    public async Task Malformed_requests_are_validation_failures()
    {
        using var content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json");
        await (await F.Http.PostAsync("/v1/auth/login", content)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await F.SendAsync(HttpMethod.Get, "/v1/audit-events?from=yesterday", (await F.AdminAsync()).Access))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var missing = await (await F.Http.PostAsJsonAsync("/v1/auth/login", new { email = "a@b.c" })).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.NotNull(missing["errors"]!["password"]);
    }
}
