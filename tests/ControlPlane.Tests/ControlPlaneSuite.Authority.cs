using System.Diagnostics;
using System.Net;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.EdgeSync;
using Authio.Shared.Errors;
using Authio.Shared.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Authio.ControlPlane.Tests;

/// <summary>The admin API checks the same live state as the edge, on every request, from a cache that changes invalidate.</summary>
public abstract partial class ControlPlaneSuite
{
    private CallerAuthority Authority => F.Services.GetRequiredService<CallerAuthority>();

    private Task<HttpResponseMessage> GetUsersAsync(string token) => F.SendAsync(HttpMethod.Get, "/v1/users", token);

    private static string Sid(string access) => Jwt(access).GetPayloadValue<string>(ClaimNames.SessionId);

    /// <summary>Uses <paramref name="token"/> twice, so the second answer comes from a warm cache.</summary>
    private async Task WarmAsync(string token)
    {
        await (await GetUsersAsync(token)).BodyAsync(HttpStatusCode.OK);
        await (await GetUsersAsync(token)).BodyAsync(HttpStatusCode.OK);
    }

    [SuiteFact]
    public async Task The_steady_path_is_served_from_the_cache_and_a_change_invalidates_it()
    {
        var (_, email) = await F.CreateUserAsync();
        var t = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        await WarmAsync(t.Access);
        // No store read for the session while nothing changed: five requests in a row served from the cache (retried
        // for a while, as a poller starved of CPU on a loaded machine makes the cache stand aside).
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (hits, misses) = (Authority.Hits, Authority.Misses);
            for (var i = 0; i < 5; i++)
            {
                await (await GetUsersAsync(t.Access)).BodyAsync(HttpStatusCode.OK);
            }

            if (Authority.Hits >= hits + 5 && Authority.Misses == misses)
            {
                break;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"hits {Authority.Hits - hits}, misses {Authority.Misses - misses}");
            await Task.Delay(100);
        }

        // Ending the session elsewhere (another of its tokens, via logout) is seen by the very next request.
        await (await F.SendAsync(HttpMethod.Delete, "/v1/sessions/" + Sid(t.Access), (await F.AdminAsync()).Access)).BodyAsync(HttpStatusCode.NoContent);
        await (await GetUsersAsync(t.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
    }

    [SuiteFact]
    public async Task Without_a_recent_poll_of_the_change_log_the_cache_stands_aside()
    {
        var t = await F.AdminAsync();
        var claims = (await F.Services.GetRequiredService<Authio.ControlPlane.Tokens.AccessTokenValidator>().ValidateAsync(t.Access))!;
        // An authority whose poller never ran (or stalled): every check reads the store.
        var unpolled = new CallerAuthority(F.Services.GetRequiredService<Authio.ControlPlane.Sessions.SessionStore>(),
            F.Services.GetRequiredService<Authio.ControlPlane.EdgeSync.EdgeChangeStore>(),
            F.Services.GetRequiredService<Authio.ControlPlane.Tokens.AccessTokenValidator>(),
            F.Services.GetRequiredService<Authio.ControlPlane.Hosting.ControlPlaneOptions>(), F.Time);
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await unpolled.CheckAsync(claims, default)).Allowed);
        }

        Assert.Equal((0L, 3L), (unpolled.Hits, unpolled.Misses));
        // Once it knows the change log's position, the same check is served from the cache.
        unpolled.Observe(await F.Services.GetRequiredService<Authio.ControlPlane.EdgeSync.EdgeChangeStore>().LastSequenceAsync(default));
        await unpolled.CheckAsync(claims, default);
        Assert.True((await unpolled.CheckAsync(claims, default)).Allowed);
        Assert.True(unpolled.Hits >= 1);
    }

    [SuiteFact]
    public async Task An_access_token_revoked_through_oauth_revoke_gets_401_on_v1_at_once()
    {
        var admin = await F.AdminAsync();
        await WarmAsync(admin.Access);
        await (await FormPostAsync("/oauth/revoke", null, ("token", admin.Access))).BodyAsync(HttpStatusCode.OK);
        await (await GetUsersAsync(admin.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", admin.Access, new { name = "x", scopes = new[] { "admin" }, environment = "live" }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        // Only that token: the session's next token (after a refresh) works.
        var next = await (await RefreshAsync(admin.Refresh)).BodyAsync(HttpStatusCode.OK);
        await (await GetUsersAsync((string)next["access_token"]!)).BodyAsync(HttpStatusCode.OK);
    }

    [SuiteFact]
    public async Task A_demoted_mods_old_token_can_neither_change_roles_nor_create_keys_and_their_privileged_keys_die()
    {
        var admin = await F.AdminAsync();
        var (modId, modEmail) = await F.CreateUserAsync("mod", admin);
        var mod = await F.LoginOkAsync(modEmail, ControlPlaneFixture.DefaultPassword);
        await WarmAsync(mod.Access);
        var adminKey = await CreateKeyAsync(mod.Access, new { name = "backdoor", scopes = new[] { "admin", "edge:sync" }, environment = "live" });
        var readKey = await CreateKeyAsync(mod.Access, new { name = "reports", scopes = new[] { "read:applications" }, environment = "live" });
        var edgeKey = await EdgeKeyAsync(admin);
        Assert.Equal(HttpStatusCode.OK, (await LookupAsync((string)adminKey["key"]!, DigestOf((string)adminKey["key"]!))).StatusCode);

        await (await F.SendAsync(HttpMethod.Put, $"/v1/users/{modId}/role", admin.Access, new { role = "explore" })).BodyAsync(HttpStatusCode.OK);

        // At once, with the cache warm: the old token can change no role (its own included) and create no key.
        await (await F.SendAsync(HttpMethod.Put, $"/v1/users/{modId}/role", mod.Access, new { role = "mod" })).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await F.SendAsync(HttpMethod.Delete, $"/v1/users/{modId}/role", mod.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", mod.Access, new { name = "again", scopes = new[] { "admin" }, environment = "live" }))
            .ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await RefreshAsync(mod.Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);

        // The keys it minted as a mod that an explorer could not mint are revoked (audited); the rest live on.
        var adminKeyNow = await (await ApiKeyAsync(HttpMethod.Get, "/" + (string)adminKey["id"]!, admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("revoked", (string?)adminKeyNow["status"]);
        var readKeyNow = await (await ApiKeyAsync(HttpMethod.Get, "/" + (string)readKey["id"]!, admin.Access)).BodyAsync(HttpStatusCode.OK);
        Assert.Equal("active", (string?)readKeyNow["status"]);
        var lookup = await (await LookupAsync(edgeKey, DigestOf((string)adminKey["key"]!))).BodyAsync(HttpStatusCode.OK);
        Assert.True((bool)lookup["revoked"]!);
        Assert.Equal(1L, await F.InspectAsync<long>("SELECT COUNT(*) FROM revocations WHERE kind = 'api_key' AND value = @id", new { id = (string)adminKey["id"]! }));
        Assert.Contains("api_key_revoked", await AuditEventsAsync(admin.Access, "event=api_key_revoked"));

        // Signing in again gives the current role: an explorer, refused (403) on both admin actions.
        F.Time.Advance(TimeSpan.FromSeconds(1));
        var again = await F.LoginOkAsync(modEmail, ControlPlaneFixture.DefaultPassword);
        Assert.Equal("explore", Jwt(again.Access).GetPayloadValue<string>(ClaimNames.Role));
        await (await F.SendAsync(HttpMethod.Put, $"/v1/users/{modId}/role", again.Access, new { role = "mod" })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", again.Access, new { name = "again", scopes = new[] { "admin" }, environment = "live" }))
            .ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        // Introspection (the edge's revocation data) agrees: the old token is inactive.
        Assert.False((bool)(await IntrospectAsync(admin.Access, mod.Access))["active"]!);
    }

    [SuiteFact]
    public async Task Authorization_uses_the_current_role_not_the_tokens()
    {
        var admin = await F.AdminAsync();
        var (modId, modEmail) = await F.CreateUserAsync("mod", admin);
        var mod = await F.LoginOkAsync(modEmail, ControlPlaneFixture.DefaultPassword);
        await WarmAsync(mod.Access);
        // The role changes behind the API's back (no session ends); the next change of any kind invalidates the cache.
        await F.ExecuteAsync("UPDATE memberships SET role = 'explore' WHERE user_id = @modId", new { modId });
        var other = await F.LoginOkAsync((await F.CreateUserAsync("explore", admin)).Email, ControlPlaneFixture.DefaultPassword);
        await (await FormPostAsync("/oauth/revoke", null, ("token", other.Access))).BodyAsync(HttpStatusCode.OK);

        // Still a live session, but its token's "mod" no longer counts.
        await (await GetUsersAsync(mod.Access)).BodyAsync(HttpStatusCode.OK);
        await (await F.SendAsync(HttpMethod.Put, $"/v1/users/{modId}/role", mod.Access, new { role = "mod" })).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", mod.Access, new { name = "k", scopes = new[] { "admin" }, environment = "live" }))
            .ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await F.SendAsync(HttpMethod.Post, "/v1/api-keys", mod.Access, new { name = "k", scopes = new[] { "write:applications" }, environment = "live" }))
            .ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await FormPostAsync("/oauth/introspect", mod.Access, ("token", admin.Access))).ProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    [SuiteFact]
    public async Task A_deactivated_users_token_gets_401_at_once_and_their_keys_are_revoked()
    {
        var admin = await F.AdminAsync();
        var (id, email) = await F.CreateUserAsync("create", admin);
        var t = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        await WarmAsync(t.Access);
        var key = await CreateKeyAsync(t.Access, new { name = "w", scopes = new[] { "write:applications" }, environment = "test" });
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/deactivate", admin.Access)).BodyAsync(HttpStatusCode.OK);
        await (await GetUsersAsync(t.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await RefreshAsync(t.Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        Assert.Equal("revoked", (string?)(await (await ApiKeyAsync(HttpMethod.Get, "/" + (string)key["id"]!, admin.Access)).BodyAsync(HttpStatusCode.OK))["status"]);
        Assert.False((bool)(await IntrospectAsync(admin.Access, t.Access))["active"]!);
    }

    [SuiteFact]
    public async Task Logout_all_session_end_and_password_change_refuse_the_old_tokens_at_once()
    {
        var admin = await F.AdminAsync();
        var (id, email) = await F.CreateUserAsync("mod", admin);
        var a = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        var b = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        await WarmAsync(a.Access);
        await WarmAsync(b.Access);

        // Session end: that session only.
        await (await F.SendAsync(HttpMethod.Delete, "/v1/sessions/" + Sid(a.Access), admin.Access)).BodyAsync(HttpStatusCode.NoContent);
        await (await GetUsersAsync(a.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await GetUsersAsync(b.Access)).BodyAsync(HttpStatusCode.OK);

        // Password change (self): every other session ends, the caller's own goes on.
        var c = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        await WarmAsync(c.Access);
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/password", b.Access,
            new { current_password = ControlPlaneFixture.DefaultPassword, new_password = "N3w!passw0rd" })).BodyAsync(HttpStatusCode.NoContent);
        await (await GetUsersAsync(c.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await GetUsersAsync(b.Access)).BodyAsync(HttpStatusCode.OK);

        // Logout-all: every session, including the caller's.
        await (await F.SendAsync(HttpMethod.Post, $"/v1/users/{id}/logout-all", b.Access)).BodyAsync(HttpStatusCode.OK);
        await (await GetUsersAsync(b.Access)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        await (await RefreshAsync(b.Refresh)).ProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized);
        foreach (var old in new[] { a, b, c })
        {
            Assert.False((bool)(await IntrospectAsync(admin.Access, old.Access))["active"]!);
        }

        // A sign-in right after (same second as the not-before) is a new session: the admin API accepts it.
        var fresh = await F.LoginOkAsync(email, "N3w!passw0rd");
        await (await GetUsersAsync(fresh.Access)).BodyAsync(HttpStatusCode.OK);
    }

    [SuiteFact]
    public async Task Another_instance_refuses_an_ended_session_once_its_poll_has_seen_the_change()
    {
        var (app, http) = await F.StartAnotherInstanceAsync();
        try
        {
            var admin = await F.AdminAsync();
            var (_, email) = await F.CreateUserAsync("create", admin);
            var t = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
            async Task<HttpStatusCode> OnSecond()
            {
                using var req = new HttpRequestMessage(HttpMethod.Get, "/v1/users");
                req.Headers.Authorization = new("Bearer", t.Access);
                using var r = await http.SendAsync(req);
                return r.StatusCode;
            }
            // Warm the second instance's cache, and wait until its poller is running so hits are really served (its start
            // took over 5 s on a 2-core machine under heavy load).
            var warm = Stopwatch.StartNew();
            while (app.Services.GetRequiredService<CallerAuthority>().Hits == 0 && warm.Elapsed < TimeSpan.FromSeconds(30))
            {
                Assert.Equal(HttpStatusCode.OK, await OnSecond());
                await Task.Delay(50);
            }
            Assert.True(app.Services.GetRequiredService<CallerAuthority>().Hits > 0);

            await (await F.SendAsync(HttpMethod.Delete, "/v1/sessions/" + Sid(t.Access), admin.Access)).BodyAsync(HttpStatusCode.NoContent);
            // The bound (one poll interval, 250 ms, plus the poll's query) is the poller's; what this checks is that the
            // first poll to see the change ends the cached answer — no wall-clock limit, which a busy CI box can miss.
            var changed = await F.Services.GetRequiredService<EdgeChangeStore>().LastSequenceAsync(CancellationToken.None);
            var authority = app.Services.GetRequiredService<CallerAuthority>();
            var clock = Stopwatch.StartNew();
            while (authority.ObservedSequence < changed)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the second instance's poller never read sequence {changed}");
                await Task.Delay(10);
            }
            Assert.Equal(HttpStatusCode.Unauthorized, await OnSecond());
        }
        finally
        {
            http.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
