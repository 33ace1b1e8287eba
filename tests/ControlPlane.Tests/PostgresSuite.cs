using Authio.Shared.Tokens;
using Dapper;
using Microsoft.IdentityModel.JsonWebTokens;
using Npgsql;

namespace Authio.ControlPlane.Tests;

public sealed class PostgresSuite(PostgresFixture f) : ControlPlaneSuite(f), IClassFixture<PostgresFixture>
{
    [SuiteFact]
    public async Task Row_level_security_hides_rows_when_the_org_filter_is_forgotten()
    {
        var admin = await F.AdminAsync();
        var orgA = new JsonWebToken(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        await F.CreateUserAsync("explore", admin);
        var limit = await F.SendAsync(System.Net.Http.HttpMethod.Put, $"/v1/orgs/{orgA}/rate-limits", admin.Access, new { @default = "10/1s" });
        Assert.Equal(System.Net.HttpStatusCode.OK, limit.StatusCode);

        await using var app = await f.OpenAsAppAsync();
        // The service's role owns nothing and does not bypass RLS.
        Assert.False(await app.ExecuteScalarAsync<bool>(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"));
        Assert.NotEqual(f.AppRole, await app.ExecuteScalarAsync<string>("SELECT tableowner FROM pg_tables WHERE tablename = 'sessions'"));

        // No org set: queries without an org filter see nothing at all.
        foreach (var table in new[] { "users", "memberships", "sessions", "refresh_tokens", "audit_events", "revocations", "teams", "org_rate_limits" })
        {
            Assert.Equal(0L, await app.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table}"));
        }

        // Another org set: org A's rows stay invisible, even when asked for by id.
        await using (var tx = await app.BeginTransactionAsync())
        {
            await app.ExecuteAsync("SELECT set_config('app.org_id', 'org_someone_else', true)", transaction: tx);
            Assert.Equal(0L, await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM memberships", transaction: tx));
            Assert.Equal(0L, await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users", transaction: tx));
            Assert.Equal(0L, await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM sessions WHERE org_id = @orgA", new { orgA }, tx));
            // ...and cannot be written into org A either.
            await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(
                "INSERT INTO teams (org_id, id, name, created_at) VALUES (@orgA, 'team_x', 'intruders', 0)", new { orgA }, tx));
        }

        // Sanity: with org A set, its rows are there.
        await using (var tx = await app.BeginTransactionAsync())
        {
            await app.ExecuteAsync("SELECT set_config('app.org_id', @orgA, true)", new { orgA }, tx);
            Assert.True(await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM memberships", transaction: tx) >= 2);
            Assert.True(await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users", transaction: tx) >= 2);
            Assert.Equal(1L, await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM org_rate_limits", transaction: tx));
        }
        await F.SendAsync(System.Net.Http.HttpMethod.Put, $"/v1/orgs/{orgA}/rate-limits", admin.Access, new { @default = (string?)null });
    }

    [SuiteFact]
    public async Task Api_key_tables_are_under_row_level_security_and_only_built_in_scopes_are_shared()
    {
        var admin = await F.AdminAsync();
        var orgA = new JsonWebToken(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        var r = await F.SendAsync(HttpMethod.Post, "/v1/api-keys", admin.Access, new { name = "rls", scopes = new[] { "read:leads" }, environment = "live" });
        Assert.Equal(System.Net.HttpStatusCode.Created, r.StatusCode);
        var custom = "read:rls" + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(System.Net.HttpStatusCode.Created, (await F.SendAsync(HttpMethod.Post, "/v1/api-key-scopes", admin.Access, new { name = custom })).StatusCode);

        await using var app = await f.OpenAsAppAsync();
        foreach (var table in new[] { "api_keys", "api_key_secrets" })
        {
            Assert.Equal(0L, await app.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table}"));
        }
        // Built-in scopes are visible to everyone; an org's own only inside it.
        Assert.Equal(12L, await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM api_key_scopes"));
        await using (var tx = await app.BeginTransactionAsync())
        {
            await app.ExecuteAsync("SELECT set_config('app.org_id', 'org_someone_else', true)", transaction: tx);
            Assert.Equal(0L, await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM api_keys WHERE org_id = @orgA", new { orgA }, tx));
            Assert.Equal(0L, await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM api_key_scopes WHERE name = @custom", new { custom }, tx));
            // Built-ins cannot be changed or removed by the service, and nothing can be written into another org.
            Assert.Equal(0, await app.ExecuteAsync("DELETE FROM api_key_scopes WHERE org_id IS NULL", transaction: tx));
            await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(
                "INSERT INTO api_key_scopes (org_id, name, created_at) VALUES (NULL, 'write:everything', 0)", transaction: tx));
        }
        await using (var tx = await app.BeginTransactionAsync())
        {
            await app.ExecuteAsync("SELECT set_config('app.org_id', 'org_someone_else', true)", transaction: tx);
            await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(
                "INSERT INTO api_keys (org_id, id, name, prefix, scopes, environment, created_by, created_at) VALUES (@orgA, 'ak_x', 'x', 'p', 'admin', 'live', 'u', 0)",
                new { orgA }, tx));
        }
        await using (var tx = await app.BeginTransactionAsync())
        {
            await app.ExecuteAsync("SELECT set_config('app.org_id', @orgA, true)", new { orgA }, tx);
            Assert.True(await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM api_keys", transaction: tx) >= 1);
            Assert.Equal(1L, await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM api_key_scopes WHERE name = @custom", new { custom }, tx));
        }
    }
    [SuiteFact]
    public async Task The_edge_change_log_is_under_row_level_security_and_read_across_orgs_only_through_the_owner_functions()
    {
        var admin = await F.AdminAsync();
        var orgA = new JsonWebToken(admin.Access).GetPayloadValue<string>(ClaimNames.Org);
        var (_, email) = await F.CreateUserAsync("explore", admin);
        var user = await F.LoginOkAsync(email, ControlPlaneFixture.DefaultPassword);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await F.SendAsync(HttpMethod.Post, "/v1/auth/logout", user.Access)).StatusCode);
        Assert.True(await F.InspectAsync<long>("SELECT COUNT(*) FROM edge_changes WHERE org_id = @orgA", new { orgA }) >= 1);

        await using var app = await f.OpenAsAppAsync();
        // No org: only global changes (JWKS, signing keys) are visible, and nothing can be deleted.
        Assert.Equal(0L, await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM edge_changes WHERE org_id IS NOT NULL"));
        Assert.True(await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM edge_changes WHERE type = 'org_keys'") >= 1);
        Assert.Equal(0, await app.ExecuteAsync("DELETE FROM edge_changes"));
        await using (var tx = await app.BeginTransactionAsync())
        {
            await app.ExecuteAsync("SELECT set_config('app.org_id', 'org_someone_else', true)", transaction: tx);
            Assert.Equal(0L, await app.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM edge_changes WHERE org_id = @orgA", new { orgA }, tx));
            await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(
                "INSERT INTO edge_changes (org_id, type, kind, value, expires_at, created_at) VALUES (@orgA, 'revocation', 'sid', 'x', 0, 0)", new { orgA }, tx));
        }
        // The owner-run function, limited to an allow-list, returns that org's rows and the global ones only (and every
        // org's rate limits, which go to every edge).
        var rows = (await app.QueryAsync<(string? OrgId, string Type)>(
            "SELECT org_id, type FROM authio_edge_changes(0, 100000, false, ARRAY['org_someone_else'])")).ToList();
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.True(r.OrgId is null || r.Type == "org_rate_limit", $"{r.OrgId} {r.Type}"));
        Assert.Contains(await app.QueryAsync<string?>("SELECT org_id FROM authio_edge_changes(0, 100000, false, @orgs)", new { orgs = new[] { orgA } }),
            o => o == orgA);
        // Functions are not executable by PUBLIC.
        Assert.False(await app.ExecuteScalarAsync<bool>(
            "SELECT has_function_privilege('public', 'authio_edge_prune(bigint)', 'EXECUTE')"));
        Assert.False(await app.ExecuteScalarAsync<bool>(
            "SELECT has_function_privilege('public', 'authio_org_rate_limits()', 'EXECUTE')"));
        Assert.False(await app.ExecuteScalarAsync<bool>(
            "SELECT has_function_privilege('public', 'authio_edge_changes(bigint, bigint, boolean, text[])', 'EXECUTE')"));
    }
}
