using System.Data.Common;
using Authio.ControlPlane.Storage;
using Dapper;

namespace Authio.ControlPlane.Teams;

internal sealed class TeamRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public long CreatedAt { get; set; }
}

/// <summary>The <c>teams</c> and <c>team_members</c> tables. Methods taking a connection run inside the caller's org transaction.</summary>
internal sealed class TeamStore(Db db)
{
    public Task<List<(TeamRow Team, List<string> Members)>> ListAsync(string orgId, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            var list = new List<(TeamRow, List<string>)>();
            foreach (var t in await c.QueryAsync<TeamRow>("SELECT id, name, created_at FROM teams WHERE org_id = @orgId ORDER BY name", new { orgId }, tx))
            {
                list.Add((t, await MembersAsync(c, tx, orgId, t.Id)));
            }
            return list;
        }, ct);

    public Task<(TeamRow Team, List<string> Members)?> GetAsync(string orgId, string id, CancellationToken ct) =>
        db.InOrgAsync<(TeamRow, List<string>)?>(orgId, async (c, tx) =>
            await c.QuerySingleOrDefaultAsync<TeamRow>("SELECT id, name, created_at FROM teams WHERE org_id = @orgId AND id = @id", new { orgId, id }, tx) is { } t
                ? (t, await MembersAsync(c, tx, orgId, t.Id)) : null, ct);

    public static Task InsertAsync(DbConnection c, DbTransaction tx, string orgId, TeamRow row) =>
        c.ExecuteAsync("INSERT INTO teams (org_id, id, name, created_at) VALUES (@orgId, @Id, @Name, @CreatedAt)",
            new { orgId, row.Id, row.Name, row.CreatedAt }, tx);

    public static async Task<bool> RenameAsync(DbConnection c, DbTransaction tx, string orgId, string id, string name) =>
        await c.ExecuteAsync("UPDATE teams SET name = @name WHERE org_id = @orgId AND id = @id", new { name, orgId, id }, tx) == 1;

    /// <summary>Deletes the team and its memberships; false when there was no such team.</summary>
    public Task<bool> DeleteAsync(string orgId, string id, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            await c.ExecuteAsync("DELETE FROM team_members WHERE org_id = @orgId AND team_id = @id", new { orgId, id }, tx);
            return await c.ExecuteAsync("DELETE FROM teams WHERE org_id = @orgId AND id = @id", new { orgId, id }, tx) == 1;
        }, ct);

    public static async Task<bool> ExistsAsync(DbConnection c, DbTransaction tx, string orgId, string teamId) =>
        await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM teams WHERE org_id = @orgId AND id = @teamId", new { orgId, teamId }, tx) > 0;

    public static Task AddMemberAsync(DbConnection c, DbTransaction tx, string orgId, string teamId, string userId) =>
        c.ExecuteAsync("INSERT INTO team_members (org_id, team_id, user_id) VALUES (@orgId, @teamId, @userId) ON CONFLICT DO NOTHING",
            new { orgId, teamId, userId }, tx);

    public static Task RemoveMemberAsync(DbConnection c, DbTransaction tx, string orgId, string teamId, string userId) =>
        c.ExecuteAsync("DELETE FROM team_members WHERE org_id = @orgId AND team_id = @teamId AND user_id = @userId", new { orgId, teamId, userId }, tx);

    /// <summary>Whether another team of the org (not <paramref name="exceptId"/>) has this name.</summary>
    public static async Task<bool> NameTakenAsync(DbConnection c, DbTransaction tx, string orgId, string name, string? exceptId) =>
        await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM teams WHERE org_id = @orgId AND name = @name AND id <> @exceptId",
            new { orgId, name, exceptId = exceptId ?? "" }, tx) > 0;

    private static async Task<List<string>> MembersAsync(DbConnection c, DbTransaction tx, string orgId, string teamId) =>
        (await c.QueryAsync<string>("SELECT user_id FROM team_members WHERE org_id = @orgId AND team_id = @id ORDER BY user_id",
            new { orgId, id = teamId }, tx)).ToList();
}
