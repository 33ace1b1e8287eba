using System.Net;
using System.Net.Http.Json;
using System.Text;
using Authio.ControlPlane.EdgeSync;
using Authio.Shared.Sync;
using Authio.Shared.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    [SuiteFact]
    public async Task Edge_snapshot_publishes_the_feed_key_every_instance_signs_with()
    {
        var edge = await EdgeKeyAsync(await F.AdminAsync());
        var first = (await SnapshotAsync(edge))["feed_key"]!;
        Assert.Equal("ES256", (string?)first["alg"]);
        var feedKey = new EdgeFeedKey((string)first["kid"]!, (string)first["alg"]!, (string)first["spki"]!);
        Assert.Equal(EdgeFeedSignature.KeyIdOf(Convert.FromBase64String(feedKey.PublicKey)), feedKey.Kid);
        using var key = EdgeFeedSignature.Import(feedKey);
        Assert.NotNull(key);

        // Derived from the master key: another instance on the same store publishes and signs with the same key.
        var (app, http) = await F.StartAnotherInstanceAsync();
        await using (app)
        using (http)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, EdgeSyncPaths.Snapshot);
            request.Headers.Authorization = new("Bearer", edge);
            using var response = await http.SendAsync(request);
            var other = (await response.Content.ReadFromJsonAsync<EdgeSnapshot>())!;
            Assert.Equal(feedKey, other.FeedKey);
            const string change = """{"seq":1,"type":"revocation"}""";
            var signature = app.Services.GetRequiredService<EdgeFeedSigner>().Sign(change);
            Assert.True(EdgeFeedSignature.Verify(key!, Encoding.UTF8.GetBytes(change), signature));
            Assert.False(EdgeFeedSignature.Verify(key!, Encoding.UTF8.GetBytes(change.Replace('1', '2')), signature));
        }
    }

    [SuiteFact]
    public async Task Logout_all_in_one_org_is_keyed_by_org_in_the_feed_and_in_introspection()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var (orgB, inB) = await OtherOrgAsync(admin); // a mod of the admin's org who founded org B
        var user = Jwt(inB.Access).GetPayloadValue<string>(ClaimNames.Subject);
        var orgA = Jwt(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        var email = (string)(await (await F.SendAsync(HttpMethod.Get, $"/v1/users/{user}", admin.Access)).BodyAsync(HttpStatusCode.OK))["email"]!;
        var inA = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgA);
        var before = (long)(await SnapshotAsync(edge))["sequence"]!;
        F.Time.Advance(TimeSpan.FromSeconds(2)); // the cut lies after both tokens were issued

        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{user}/logout-all", inA.Access)).BodyAsync(HttpStatusCode.OK);

        var record = Changes(await ChangesAsync(edge, before)).Select(c => c["revocation"]).Single(r => (string?)r?["kind"] == RevocationKinds.UserNotBefore)!;
        Assert.Equal(user, (string?)record["value"]);
        Assert.Equal(orgA, (string?)record["org_id"]);
        Assert.False((bool)(await IntrospectAsync(edge, inA.Access))["active"]!);
        Assert.True((bool)(await IntrospectAsync(edge, inB.Access))["active"]!);
        Assert.Equal(orgB, (string?)(await IntrospectAsync(edge, inB.Access))["org"]);
    }
}
