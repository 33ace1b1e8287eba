using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Authio.EdgeProxy.Tests.EndToEnd;

/// <summary>
/// Erasing a person at the real control plane stops their tokens and their API keys at the real edge that follows its
/// change feed, and leaves a bystander's alone; an erasure attempted from another org changes nothing at the edge.
/// </summary>
public abstract class DataSubjectErasureEndToEndTests(bool postgres) : ControlPlaneAndEdge(withRedis: false, postgres)
{
    // Revocation must come from the feed, not cache expiry.
    private protected override void ConfigureEdge(Dictionary<string, string?> config) => config["Edge:ApiKeys:CacheDuration"] = "00:10:00";

    private async Task<HttpStatusCode> Status(string credential)
    {
        using var response = await Edge.GetAsync("/api/x", credential);
        return response.StatusCode;
    }

    private async Task<HttpStatusCode> Settled(string credential, HttpStatusCode expected)
    {
        var clock = Stopwatch.StartNew();
        var status = await Status(credential);
        while (status != expected && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
            status = await Status(credential);
        }

        return status;
    }

    private async Task<string> MemberAsync(string adminToken, string email, string role)
    {
        using var created = await Cp.SendAsync(HttpMethod.Post, "/v1/users", adminToken, new { email, password = RealControlPlane.Password, role });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task An_erased_persons_tokens_and_api_keys_stop_at_the_edge_and_nobody_elses_do()
    {
        var admin = await Cp.AccessTokenAsync();
        var personId = await MemberAsync(admin, "person@acme.test", "mod");
        await MemberAsync(admin, "bystander@acme.test", "explore");
        var person = await Cp.AccessTokenAsync("person@acme.test");
        var personKey = (await Cp.CreateApiKeyAsync(person, "person's key", ["read:applications"])).GetProperty("key").GetString()!;
        var bystander = await Cp.AccessTokenAsync("bystander@acme.test");
        var adminKey = (await Cp.CreateApiKeyAsync(admin, "admin's key", ["read:applications"])).GetProperty("key").GetString()!;
        foreach (var credential in new[] { person, personKey, bystander, adminKey })
        {
            Assert.Equal(HttpStatusCode.OK, await Status(credential));
        }

        // Another org's mod (founded by a member of this one) cannot erase the person: nothing changes at the edge.
        await MemberAsync(admin, "founder@acme.test", "mod");
        var founder = await Cp.AccessTokenAsync("founder@acme.test");
        using (var org = await Cp.SendAsync(HttpMethod.Post, "/v1/orgs", founder, new { name = "Elsewhere" }))
        {
            var orgB = (await org.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            var modB = (await Cp.LoginAsync("founder@acme.test", RealControlPlane.Password, orgB)).GetProperty("access_token").GetString()!;
            using var refused = await Cp.SendAsync(HttpMethod.Delete, $"/v1/users/{personId}?erase=true", modB);
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await Status(person));
        Assert.Equal(HttpStatusCode.OK, await Status(personKey));

        using (var erase = await Cp.SendAsync(HttpMethod.Delete, $"/v1/users/{personId}?erase=true", admin))
        {
            Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await Settled(person, HttpStatusCode.Unauthorized));
        Assert.Equal(HttpStatusCode.Unauthorized, await Settled(personKey, HttpStatusCode.Unauthorized));
        Assert.Equal(HttpStatusCode.OK, await Status(bystander));
        Assert.Equal(HttpStatusCode.OK, await Status(adminKey));
    }
}

public sealed class DataSubjectErasureEndToEndSqliteTests() : DataSubjectErasureEndToEndTests(postgres: false);

public sealed class DataSubjectErasureEndToEndPostgresTests() : DataSubjectErasureEndToEndTests(postgres: true);
