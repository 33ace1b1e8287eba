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

        await using var app = await f.OpenAsAppAsync();
        // The service's role owns nothing and does not bypass RLS.
        Assert.False(await app.ExecuteScalarAsync<bool>(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"));
        Assert.NotEqual(f.AppRole, await app.ExecuteScalarAsync<string>("SELECT tableowner FROM pg_tables WHERE tablename = 'sessions'"));

        // No org set: queries without an org filter see nothing at all.
        foreach (var table in new[] { "users", "memberships", "sessions", "refresh_tokens", "audit_events", "revocations", "teams" })
            Assert.Equal(0L, await app.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table}"));

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
        }
    }
}
