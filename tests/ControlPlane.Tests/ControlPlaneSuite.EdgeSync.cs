using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Authio.ControlPlane.Hosting;
using Authio.Shared.ApiKeys;
using Authio.Shared.Errors;
using Authio.Shared.Sync;
using Authio.Shared.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

public abstract partial class ControlPlaneSuite
{
    private async Task<JsonNode> SnapshotAsync(string edgeKey) =>
        await (await F.SendAsync(HttpMethod.Get, EdgeSyncPaths.Snapshot, edgeKey)).BodyAsync(HttpStatusCode.OK);

    private async Task<JsonNode> ChangesAsync(string edgeKey, long after, int wait = 0, HttpClient? http = null)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, $"{EdgeSyncPaths.Changes}?after={after}&wait={wait}");
        req.Headers.Authorization = new("Bearer", edgeKey);
        return await (await (http ?? F.Http).SendAsync(req)).BodyAsync(HttpStatusCode.OK);
    }

    private async Task<HttpResponseMessage> FormPostAsync(string path, string? bearer, params (string Name, string Value)[] fields)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))) };
        if (bearer is not null)
        {
            req.Headers.Authorization = new("Bearer", bearer);
        }

        return await F.Http.SendAsync(req);
    }

    private async Task<JsonNode> IntrospectAsync(string bearer, string token) =>
        await (await FormPostAsync("/oauth/introspect", bearer, ("token", token))).BodyAsync(HttpStatusCode.OK);

    private static List<JsonNode> Changes(JsonNode batch) => batch["changes"]!.AsArray().Select(c => c!).ToList();

    private static string Describe(JsonNode change) =>
        (string)change["type"]! is "jwks" or "org_keys" ? (string)change["type"]! : "revocation:" + (string)change["revocation"]!["kind"]!;

    private async Task<Tokens> UserSessionAsync(Tokens admin)
    {
        var (_, email) = await F.CreateUserAsync("explore", admin);
        return await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
    }

    /// <summary>A second org founded by a new mod of the admin's org (never the bootstrap admin: it must stay in one org); a token pair in it.</summary>
    private async Task<(string OrgId, Tokens Mod)> OtherOrgAsync(Tokens admin)
    {
        var (_, email) = await F.CreateUserAsync("mod", admin);
        var founder = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var orgB = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/orgs", founder.Access, new { name = "Other " + Guid.NewGuid().ToString("N")[..6] }))
            .BodyAsync(HttpStatusCode.Created))["id"]!;
        return (orgB, await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword, orgB));
    }

    private long NowSeconds => F.Time.GetUtcNow().ToUnixTimeSeconds();

    [SuiteFact]
    public async Task Edge_snapshot_carries_issuer_jwks_and_only_live_revocations()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var user = await UserSessionAsync(admin);
        var sid = Jwt(user.Access).GetPayloadValue<string>(ClaimNames.SessionId);
        await (await F.SendAsync(HttpMethod.Post, "/v1/auth/logout", user.Access)).BodyAsync(HttpStatusCode.NoContent);

        var snapshot = await SnapshotAsync(edge);
        var issuer = snapshot["issuer"]!;
        Assert.Equal("http://localhost:5100", (string?)issuer["issuer"]);
        Assert.Equal(["authio-api"], issuer["audiences"]!.AsArray().Select(a => (string)a!));
        Assert.Equal("http://localhost:5100/.well-known/jwks.json", (string?)issuer["jwks_uri"]);
        var published = (await JwksAsync()).Keys.Select(k => k.Kid).Order().ToList();
        Assert.Equal(published, issuer["jwks"]!["keys"]!.AsArray().Select(k => (string)k!["kid"]!).Order().ToList());
        Assert.NotNull(snapshot["generated_at"]);
        var sequence = (long)snapshot["sequence"]!;
        var revocations = snapshot["revocations"]!.AsArray().Select(r => r!).ToList();
        var mine = Assert.Single(revocations, r => (string?)r["kind"] == RevocationKinds.SessionId && (string?)r["value"] == sid);
        Assert.True((long)mine["seq"]! <= sequence);
        // Unix seconds, until the session's last access token could be valid (15 min TTL + 1 min skew).
        Assert.InRange((long)mine["expires_at"]!, NowSeconds + 15 * 60, NowSeconds + 16 * 60 + 1);
        Assert.All(revocations, r => Assert.True((long)r["expires_at"]! > NowSeconds));
        Assert.Equal(revocations.Select(r => (long)r["seq"]!).Order(), revocations.Select(r => (long)r["seq"]!));

        // Once expired, the revocation is no longer part of the state (even before pruning).
        F.Time.Advance(TimeSpan.FromMinutes(17));
        snapshot = await SnapshotAsync(edge);
        Assert.DoesNotContain(snapshot["revocations"]!.AsArray(), r => (string?)r!["value"] == sid);
        Assert.All(snapshot["revocations"]!.AsArray(), r => Assert.True((long)r!["expires_at"]! > NowSeconds));
    }

    [SuiteFact]
    public async Task Edge_changes_list_every_kind_of_change_in_order()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var start = (long)(await SnapshotAsync(edge))["sequence"]!;

        var one = await UserSessionAsync(admin);
        await (await F.SendAsync(HttpMethod.Post, "/v1/auth/logout", one.Access)).BodyAsync(HttpStatusCode.NoContent);
        var two = await UserSessionAsync(admin);
        var twoId = Jwt(two.Access).Subject;
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{twoId}/logout-all", admin.Access)).BodyAsync(HttpStatusCode.OK);
        var keyId = (string)(await CreateKeyAsync(admin.Access, new { name = "k", scopes = new[] { "read:leads" }, environment = "live" }))["id"]!;
        await (await ApiKeyAsync(HttpMethod.Delete, "/" + keyId, admin.Access)).BodyAsync(HttpStatusCode.NoContent);
        var kid = (string)(await (await F.SendAsync(HttpMethod.Post, "/v1/signing-keys/rotate", admin.Access)).BodyAsync(HttpStatusCode.OK))["kid"]!;
        await (await F.SendAsync(HttpMethod.Post, $"/v1/signing-keys/{kid}/revoke", admin.Access)).BodyAsync(HttpStatusCode.NoContent);

        var batch = await ChangesAsync(edge, start);
        Assert.False((bool)batch["reset"]!);
        var changes = Changes(batch);
        // Revoking the pending key removes it from JWKS and, as it was about to sign, makes a new signer at once.
        // Logout-all ends each session with its own sid (a token minted by a racing refresh is refused whatever its iat) and the user's not-before.
        // Key changes are per org: only the admin's org's keys travel, never the whole all-org document.
        Assert.Equal(["revocation:sid", "revocation:sid", "revocation:user_not_before", "revocation:api_key", "org_keys", "revocation:signing_key", "org_keys", "org_keys"],
            changes.Select(Describe));
        var seqs = changes.Select(c => (long)c["seq"]!).ToList();
        Assert.True(seqs[0] > start);
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(seqs.Count, seqs.Distinct().Count());
        Assert.Equal(seqs[^1], (long)batch["sequence"]!);
        Assert.All(changes.Where(c => (string)c["type"]! == "revocation"), c => Assert.Equal((long)c["seq"]!, (long)c["revocation"]!["seq"]!));

        Assert.Equal(Jwt(one.Access).GetPayloadValue<string>(ClaimNames.SessionId), (string?)changes[0]["revocation"]!["value"]);
        Assert.Equal(Jwt(two.Access).GetPayloadValue<string>(ClaimNames.SessionId), (string?)changes[1]["revocation"]!["value"]);
        changes.RemoveAt(1);
        Assert.Equal(twoId, (string?)changes[1]["revocation"]!["value"]);
        Assert.InRange((long)changes[1]["revocation"]!["not_before"]!, NowSeconds - 5, NowSeconds + 1);
        Assert.Equal(keyId, (string?)changes[2]["revocation"]!["value"]);
        var org = Jwt(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        Assert.All(changes.Where(c => (string)c["type"]! == "org_keys"), c => Assert.Equal(org, (string?)c["org_keys"]!["org_id"]));
        Assert.All(changes.Where(c => (string)c["type"]! == "org_keys"), c => Assert.All(c["org_keys"]!["jwks"]!["keys"]!.AsArray(), k => Assert.Equal(org, (string?)k!["org"])));
        Assert.Contains(changes[3]["org_keys"]!["jwks"]!["keys"]!.AsArray(), k => (string?)k!["kid"] == kid);
        var signingKey = changes[4]["revocation"]!;
        Assert.Equal(kid, (string?)signingKey["value"]);
        // The last moment a token it signed could be valid: now + max TTL (1 h) + skew (1 min).
        Assert.InRange((long)signingKey["expires_at"]!, NowSeconds + 3600, NowSeconds + 3661);
        Assert.DoesNotContain(changes[5]["org_keys"]!["jwks"]!["keys"]!.AsArray(), k => (string?)k!["kid"] == kid);
        var current = (await JwksAsync()).Keys.Where(k => k.AdditionalData.TryGetValue("org", out var o) && (string)o == org).Select(k => k.Kid).Order().ToList();
        Assert.Equal(current, changes[6]["org_keys"]!["jwks"]!["keys"]!.AsArray().Select(k => (string)k!["kid"]!).Order().ToList());

        // Nothing newer: an empty batch at the position asked for.
        var empty = await ChangesAsync(edge, seqs[^1]);
        Assert.Empty(Changes(empty));
        Assert.Equal(seqs[^1], (long)empty["sequence"]!);
        Assert.False((bool)empty["reset"]!);
        // Partway: only the later ones.
        Assert.Equal(seqs.Skip(3), Changes(await ChangesAsync(edge, seqs[2])).Select(c => (long)c["seq"]!));
        await (await F.SendAsync(HttpMethod.Get, EdgeSyncPaths.Changes + "?after=-1", edge)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await F.SendAsync(HttpMethod.Get, EdgeSyncPaths.Changes + "?after=x", edge)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }

    [SuiteFact]
    public async Task Edge_long_poll_answers_as_soon_as_a_change_is_written_here_or_on_another_instance()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var start = (long)(await SnapshotAsync(edge))["sequence"]!;

        // Nothing happens: an empty batch after the wait.
        var clock = Stopwatch.StartNew();
        var idle = await ChangesAsync(edge, start, wait: 1);
        Assert.Empty(Changes(idle));
        Assert.Equal(start, (long)idle["sequence"]!);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(10));

        // A logout on this instance wakes the waiting poll at once.
        var user = await UserSessionAsync(admin);
        clock.Restart();
        var poll = ChangesAsync(edge, start, wait: 20);
        await Task.Delay(300);
        Assert.False(poll.IsCompleted);
        await (await F.SendAsync(HttpMethod.Post, "/v1/auth/logout", user.Access)).BodyAsync(HttpStatusCode.NoContent);
        var batch = await poll;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        var change = Assert.Single(Changes(batch));
        Assert.Equal(Jwt(user.Access).GetPayloadValue<string>(ClaimNames.SessionId), (string?)change["revocation"]!["value"]);

        // A change written by another instance on the same store is seen by the re-check.
        var (app, http) = await F.StartAnotherInstanceAsync();
        await using (app)
        using (http)
        {
            // (Starting may log a JWKS change if earlier tests moved time past a retirement: begin after it.)
            var after = (long)(await SnapshotAsync(edge))["sequence"]!;
            var other = await UserSessionAsync(admin);
            clock.Restart();
            poll = ChangesAsync(edge, after, wait: 20);
            await Task.Delay(300);
            Assert.False(poll.IsCompleted);
            using (var req = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/logout"))
            {
                req.Headers.Authorization = new("Bearer", other.Access);
                Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(req)).StatusCode);
            }
            batch = await poll;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
            Assert.Equal(Jwt(other.Access).GetPayloadValue<string>(ClaimNames.SessionId), (string?)Assert.Single(Changes(batch))["revocation"]!["value"]);
            await app.StopAsync();
        }
    }

    [SuiteFact]
    public async Task Edge_changes_reset_after_pruning()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var start = (long)(await SnapshotAsync(edge))["sequence"]!;
        var user = await UserSessionAsync(admin);
        await (await F.SendAsync(HttpMethod.Post, "/v1/auth/logout", user.Access)).BodyAsync(HttpStatusCode.NoContent);
        var logged = (long)Assert.Single(Changes(await ChangesAsync(edge, start)))["seq"]!;

        // The revocation expires and the maintenance job prunes it: an edge still before it must take a snapshot.
        F.Time.Advance(TimeSpan.FromHours(2));
        await F.Services.GetRequiredService<MaintenanceService>().RunOnceAsync(CancellationToken.None);
        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM edge_changes WHERE seq = @logged", new { logged }));
        Assert.Equal(0L, await F.InspectAsync<long>("SELECT COUNT(*) FROM revocations WHERE expires_at <= @now",
            new { now = F.Time.GetUtcNow().ToUnixTimeMilliseconds() }));
        var reset = await ChangesAsync(edge, start, wait: 5);
        Assert.True((bool)reset["reset"]!);
        Assert.Empty(Changes(reset));

        var snapshot = await SnapshotAsync(edge);
        var sequence = (long)snapshot["sequence"]!;
        Assert.True(sequence >= logged);
        Assert.DoesNotContain(snapshot["revocations"]!.AsArray(), r => (long)r!["seq"]! == logged);
        Assert.False((bool)(await ChangesAsync(edge, sequence))["reset"]!);
        // An edge ahead of the log (a restored store) starts over too.
        Assert.True((bool)(await ChangesAsync(edge, sequence + 1000))["reset"]!);
    }

    [SuiteFact]
    public async Task Edge_feed_needs_an_edge_sync_key()
    {
        var admin = await F.AdminAsync();
        var plain = (string)(await CreateKeyAsync(admin.Access, new { name = "plain", scopes = new[] { "read:leads" }, environment = "live" }))["key"]!;
        foreach (var path in new[] { EdgeSyncPaths.Snapshot, EdgeSyncPaths.Changes + "?after=0&wait=0" })
        {
            await (await F.SendAsync(HttpMethod.Get, path, null)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
            await (await F.SendAsync(HttpMethod.Get, path, admin.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
            await (await F.SendAsync(HttpMethod.Get, path, ApiKeyFormat.Generate(ApiKeyEnvironment.Live))).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
            await (await F.SendAsync(HttpMethod.Get, path, plain)).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        }
        // Introspection: an edge key or a mod's access token; others are refused.
        var user = await UserSessionAsync(admin);
        await (await FormPostAsync("/oauth/introspect", null, ("token", user.Access))).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await FormPostAsync("/oauth/introspect", "garbage", ("token", user.Access))).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await FormPostAsync("/oauth/introspect", plain, ("token", user.Access))).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await FormPostAsync("/oauth/introspect", user.Access, ("token", user.Access))).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    [SuiteFact]
    public async Task Oauth_revoke_ends_sessions_and_revokes_access_tokens_into_the_feed()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var start = (long)(await SnapshotAsync(edge))["sequence"]!;

        // Refresh token: its session ends (sid revocation); the token is dead.
        var user = await UserSessionAsync(admin);
        var sid = Jwt(user.Access).GetPayloadValue<string>(ClaimNames.SessionId);
        Assert.True((bool)(await IntrospectAsync(edge, user.Refresh))["active"]!);
        await (await FormPostAsync("/oauth/revoke", null, ("token", user.Refresh), ("token_type_hint", "refresh_token"))).BodyAsync(HttpStatusCode.OK);
        await (await RefreshAsync(user.Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.Equal("token_revoked", await F.InspectAsync<string>("SELECT end_reason FROM sessions WHERE id = @sid", new { sid }));
        Assert.False((bool)(await IntrospectAsync(edge, user.Refresh))["active"]!);
        Assert.False((bool)(await IntrospectAsync(edge, user.Access))["active"]!);

        // Access token: a jti revocation until it expires; the session itself lives on.
        var other = await UserSessionAsync(admin);
        var jti = Jwt(other.Access).Id;
        var exp = Jwt(other.Access).GetPayloadValue<long>("exp");
        await (await FormPostAsync("/oauth/revoke", null, ("token", other.Access))).BodyAsync(HttpStatusCode.OK);
        await (await FormPostAsync("/oauth/revoke", null, ("token", other.Access), ("token_type_hint", "access_token"))).BodyAsync(HttpStatusCode.OK);
        Assert.False((bool)(await IntrospectAsync(edge, other.Access))["active"]!);
        Assert.True((bool)(await IntrospectAsync(edge, other.Refresh))["active"]!);

        var changes = Changes(await ChangesAsync(edge, start)).Select(c => c["revocation"]!).ToList();
        Assert.Equal([RevocationKinds.SessionId, RevocationKinds.TokenId], changes.Select(r => (string)r["kind"]!));
        Assert.Equal(sid, (string?)changes[0]["value"]);
        Assert.Equal(jti, (string?)changes[1]["value"]);
        Assert.Equal(exp + 60, (long)changes[1]["expires_at"]!);

        // Unknown, malformed or foreign tokens: 200 and nothing happens (RFC 7009 §2.2).
        foreach (var garbage in new[] { "nope", "a.b.c", "org_x.abc", "org_x.", user.Access + "x", new string('a', 10_000) })
        {
            await (await FormPostAsync("/oauth/revoke", null, ("token", garbage))).BodyAsync(HttpStatusCode.OK);
        }

        Assert.Equal(2, Changes(await ChangesAsync(edge, start)).Count);
        await (await FormPostAsync("/oauth/revoke", null)).ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await F.Http.PostAsync("/oauth/revoke", new StringContent("{}", System.Text.Encoding.UTF8, "application/json")))
            .ProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }

    [SuiteFact]
    public async Task A_token_granted_in_the_same_second_after_a_role_change_or_logout_all_is_active_at_the_edge()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var (id, email) = await F.CreateUserAsync("explore", admin);
        var before = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        // Mid-second: the not-before (milliseconds) lands in this second, the edges' rule rounds it up to the next.
        F.Time.SetUtcNow(F.Time.GetUtcNow().AddSeconds(5) - TimeSpan.FromMilliseconds(F.Time.GetUtcNow().Millisecond) + TimeSpan.FromMilliseconds(400));

        await (await F.SendAsync(HttpMethod.Put, $"/v1/users/{id}/role", admin.Access, new { role = "create" })).BodyAsync(HttpStatusCode.OK);
        var signedIn = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        Assert.False((bool)(await IntrospectAsync(edge, before.Access))["active"]!);
        Assert.True((bool)(await IntrospectAsync(edge, signedIn.Access))["active"]!, "a sign-in right after the role change");
        var refreshed = await (await F.Http.PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = signedIn.Refresh })).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)(await IntrospectAsync(edge, (string)refreshed["access_token"]!))["active"]!, "a refresh right after it");

        F.Time.Advance(TimeSpan.FromSeconds(3));
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/logout-all", admin.Access)).BodyAsync(HttpStatusCode.OK);
        var again = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        Assert.False((bool)(await IntrospectAsync(edge, signedIn.Access))["active"]!);
        Assert.True((bool)(await IntrospectAsync(edge, again.Access))["active"]!, "a sign-in right after logout-all");
    }

    [SuiteFact]
    public async Task Oauth_introspect_reports_active_tokens_and_nothing_else()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var org = Jwt(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        var user = await UserSessionAsync(admin);
        var jwt = Jwt(user.Access);

        var active = await IntrospectAsync(edge, user.Access);
        Assert.True((bool)active["active"]!);
        Assert.Equal("read:*", (string?)active["scope"]);
        Assert.Equal(jwt.Subject, (string?)active["sub"]);
        Assert.Equal(org, (string?)active["org"]);
        Assert.Equal(jwt.GetPayloadValue<string>(ClaimNames.SessionId), (string?)active["sid"]);
        Assert.Equal(jwt.Id, (string?)active["jti"]);
        Assert.Equal(jwt.GetPayloadValue<long>("exp"), (long)active["exp"]!);
        Assert.Equal(jwt.GetPayloadValue<long>("iat"), (long)active["iat"]!);
        Assert.Equal("http://localhost:5100", (string?)active["iss"]);
        Assert.Equal("authio-api", (string?)active["aud"]);
        Assert.Equal("Bearer", (string?)active["token_type"]);
        // A mod of the same org may introspect too.
        Assert.True((bool)(await IntrospectAsync(admin.Access, user.Access))["active"]!);
        var refresh = await IntrospectAsync(edge, user.Refresh);
        Assert.True((bool)refresh["active"]!);
        Assert.Equal("refresh_token", (string?)refresh["token_type"]);
        Assert.Equal(jwt.Subject, (string?)refresh["sub"]);

        // Garbage, tampered and foreign-org tokens are simply inactive, with nothing else said.
        foreach (var bad in new[] { "nope", "a.b.c", user.Access[..^2] + "xx", "org_x.abc" })
        {
            var inactive = await IntrospectAsync(edge, bad);
            Assert.False((bool)inactive["active"]!);
            Assert.Single(inactive.AsObject());
        }
        var (_, modB) = await OtherOrgAsync(admin);
        Assert.False((bool)(await IntrospectAsync(modB.Access, user.Access))["active"]!);

        // Logout-all: tokens issued before it are inactive.
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{jwt.Subject}/logout-all", admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.False((bool)(await IntrospectAsync(edge, user.Access))["active"]!);
        Assert.False((bool)(await IntrospectAsync(edge, user.Refresh))["active"]!);

        // Signed by a revoked signing key: inactive at once.
        var signed = await UserSessionAsync(admin);
        Assert.True((bool)(await IntrospectAsync(edge, signed.Access))["active"]!);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/signing-keys/{Jwt(signed.Access).Kid}/revoke", admin.Access)).BodyAsync(HttpStatusCode.NoContent);
        Assert.False((bool)(await IntrospectAsync(edge, signed.Access))["active"]!);

        // Expired: inactive.
        var late = await UserSessionAsync(await F.AdminAsync());
        Assert.True((bool)(await IntrospectAsync(edge, late.Access))["active"]!);
        F.Time.Advance(TimeSpan.FromMinutes(17));
        Assert.False((bool)(await IntrospectAsync(edge, late.Access))["active"]!);
    }

    [SuiteFact]
    public async Task Edge_feed_carries_every_orgs_revocations_even_with_EdgeOrgIds_but_introspection_stays_confined()
    {
        var admin = await F.AdminAsync();
        var orgA = Jwt(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        var edge = await EdgeKeyAsync(admin);
        var (orgB, inB) = await OtherOrgAsync(admin);
        var options = F.Services.GetRequiredService<ControlPlaneOptions>();
        var before = options.ApiKeys.EdgeOrgIds;
        options.ApiKeys.EdgeOrgIds = [orgA];
        try
        {
            var start = (long)(await SnapshotAsync(edge))["sequence"]!;
            var sidB = Jwt(inB.Access).GetPayloadValue<string>(ClaimNames.SessionId);
            Assert.True((bool)(await IntrospectAsync(edge, inB.Access))["active"]! == false, "org B's token is not the edge's to introspect");
            await (await F.SendAsync(HttpMethod.Post, "/v1/auth/logout", inB.Access)).BodyAsync(HttpStatusCode.NoContent);
            var inA = await UserSessionAsync(admin);
            var sidA = Jwt(inA.Access).GetPayloadValue<string>(ClaimNames.SessionId);
            await (await F.SendAsync(HttpMethod.Post, "/v1/auth/logout", inA.Access)).BodyAsync(HttpStatusCode.NoContent);
            Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM edge_changes WHERE value = @sidB AND org_id = @orgB", new { sidB, orgB }));

            // The edge accepts org B's tokens (same signing keys), so it must hear org B's revocations too.
            var values = (await SnapshotAsync(edge))["revocations"]!.AsArray().Select(r => (string)r!["value"]!).ToList();
            Assert.Contains(sidA, values);
            Assert.Contains(sidB, values);
            Assert.Equal([sidB, sidA], Changes(await ChangesAsync(edge, start)).Select(c => (string)c["revocation"]!["value"]!));
        }
        finally
        {
            options.ApiKeys.EdgeOrgIds = before;
        }
    }
    [SuiteFact]
    public async Task Concurrent_revocations_all_reach_the_feed_with_distinct_increasing_sequence_numbers()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var start = (long)(await SnapshotAsync(edge))["sequence"]!;
        var users = new List<Tokens>();
        for (var i = 0; i < 6; i++)
        {
            users.Add(await UserSessionAsync(admin));
        }

        var responses = await Task.WhenAll(users.Select(u => F.SendAsync(HttpMethod.Post, "/v1/auth/logout", u.Access)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.NoContent, r.StatusCode));
        var changes = Changes(await ChangesAsync(edge, start));
        Assert.Equal(users.Select(u => Jwt(u.Access).GetPayloadValue<string>(ClaimNames.SessionId)).Order(),
            changes.Select(c => (string)c["revocation"]!["value"]!).Order());
        var seqs = changes.Select(c => (long)c["seq"]!).ToList();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(seqs.Count, seqs.Distinct().Count());
    }
    /// <summary>What an edge's client does: the shared contract records with default JSON options.</summary>
    [SuiteFact]
    public async Task Edge_sync_responses_round_trip_through_the_shared_contracts()
    {
        var admin = await F.AdminAsync();
        var edge = await EdgeKeyAsync(admin);
        var user = await UserSessionAsync(admin);
        var userId = Jwt(user.Access).Subject;
        var before = (long)(await SnapshotAsync(edge))["sequence"]!;
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{userId}/logout-all", admin.Access)).BodyAsync(HttpStatusCode.OK);

        var snapshot = (await (await F.SendAsync(HttpMethod.Get, EdgeSyncPaths.Snapshot, edge)).Content.ReadFromJsonAsync<EdgeSnapshot>())!;
        Assert.True(snapshot.Sequence > before);
        Assert.Equal("http://localhost:5100", snapshot.Issuer.Issuer);
        Assert.Equal(System.Text.Json.JsonValueKind.Array, snapshot.Issuer.Jwks.GetProperty("keys").ValueKind);
        var record = Assert.Single(snapshot.Revocations, r => r.Kind == RevocationKinds.UserNotBefore && r.Value == userId);
        Assert.NotNull(record.NotBefore);
        Assert.True(record.ExpiresAt > record.NotBefore);
        Assert.InRange(snapshot.GeneratedAt, F.Time.GetUtcNow().AddMinutes(-1), F.Time.GetUtcNow().AddMinutes(1));

        var batch = (await (await F.SendAsync(HttpMethod.Get, $"{EdgeSyncPaths.Changes}?after={before}&wait=0", edge)).Content.ReadFromJsonAsync<EdgeChangeBatch>())!;
        Assert.False(batch.Reset);
        // The session's sid, then the user's not-before.
        var both = batch.Changes.ToList();
        Assert.Equal(2, both.Count);
        Assert.Equal(Jwt(user.Access).GetPayloadValue<string>(ClaimNames.SessionId), both[0].Revocation!.Value);
        var change = both[1];
        Assert.Equal("revocation", change.Type);
        Assert.Equal(record, change.Revocation);
        Assert.Null(change.Jwks);
        Assert.Equal(change.Sequence, batch.Sequence);
    }
}
