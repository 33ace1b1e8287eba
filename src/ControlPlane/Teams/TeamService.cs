using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Users;
using Dapper;

namespace Authio.ControlPlane.Teams;

internal sealed record TeamView(string Id, string Name, DateTimeOffset CreatedAt, IReadOnlyList<string> Members);

/// <summary>Teams group users inside an org; membership shows up in access tokens as <c>teams</c>.</summary>
internal sealed class TeamService(Db db, AuditLog audit, TimeProvider time)
{
    private sealed class TeamRow
    {
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
        public long CreatedAt { get; set; }
    }

    public Task<List<TeamView>> ListAsync(string orgId, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            var list = new List<TeamView>();
            foreach (var t in await c.QueryAsync<TeamRow>("SELECT id, name, created_at FROM teams WHERE org_id = @orgId ORDER BY name", new { orgId }, tx))
                list.Add(await ViewAsync(c, tx, orgId, t));
            return list;
        }, ct);

    public Task<TeamView?> GetAsync(string orgId, string id, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
            await c.QuerySingleOrDefaultAsync<TeamRow>("SELECT id, name, created_at FROM teams WHERE org_id = @orgId AND id = @id", new { orgId, id }, tx) is { } t
                ? await ViewAsync(c, tx, orgId, t) : null, ct);

    public async Task<Result<TeamView>> CreateAsync(string orgId, string? name, Caller actor, CancellationToken ct)
    {
        if (NameError(name) is { } bad) return bad;
        var row = new TeamRow { Id = Ids.New("team"), Name = name!.Trim(), CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds() };
        bool ok;
        try
        {
            ok = await db.InOrgAsync(orgId, async (c, tx) =>
            {
                if (await NameTakenAsync(c, tx, orgId, row.Name, null)) return false;
                await c.ExecuteAsync("INSERT INTO teams (org_id, id, name, created_at) VALUES (@orgId, @Id, @Name, @CreatedAt)",
                    new { orgId, row.Id, row.Name, row.CreatedAt }, tx);
                return true;
            }, ct);
        }
        catch (System.Data.Common.DbException ex) when (Db.IsUniqueViolation(ex))
        {
            ok = false;
        }
        if (!ok) return Failure.Conflict("A team with this name already exists.");
        await RecordAsync(orgId, AuditEvents.TeamCreated, actor, null, new() { ["team_id"] = row.Id, ["name"] = row.Name }, ct);
        return (await GetAsync(orgId, row.Id, ct))!;
    }

    public async Task<Result<TeamView>> RenameAsync(string orgId, string id, string? name, Caller actor, CancellationToken ct)
    {
        if (NameError(name) is { } bad) return bad;
        var trimmed = name!.Trim();
        var outcome = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            if (await NameTakenAsync(c, tx, orgId, trimmed, id)) return 409;
            return await c.ExecuteAsync("UPDATE teams SET name = @trimmed WHERE org_id = @orgId AND id = @id", new { trimmed, orgId, id }, tx) == 1 ? 200 : 404;
        }, ct);
        if (outcome == 404) return Failure.NotFound("Team");
        if (outcome == 409) return Failure.Conflict("A team with this name already exists.");
        await RecordAsync(orgId, AuditEvents.TeamRenamed, actor, null, new() { ["team_id"] = id, ["name"] = trimmed }, ct);
        return (await GetAsync(orgId, id, ct))!;
    }

    public async Task<bool> DeleteAsync(string orgId, string id, Caller actor, CancellationToken ct)
    {
        var deleted = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            await c.ExecuteAsync("DELETE FROM team_members WHERE org_id = @orgId AND team_id = @id", new { orgId, id }, tx);
            return await c.ExecuteAsync("DELETE FROM teams WHERE org_id = @orgId AND id = @id", new { orgId, id }, tx) == 1;
        }, ct);
        if (deleted) await RecordAsync(orgId, AuditEvents.TeamDeleted, actor, null, new() { ["team_id"] = id }, ct);
        return deleted;
    }

    /// <summary>Adds or removes a member; both must exist in the org, otherwise not found.</summary>
    public async Task<Result<TeamView>> SetMemberAsync(string orgId, string teamId, string userId, bool add, Caller actor, CancellationToken ct)
    {
        var found = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            var team = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM teams WHERE org_id = @orgId AND id = @teamId", new { orgId, teamId }, tx);
            if (team == 0 || await UserStore.MemberAsync(c, tx, orgId, userId) is null) return false;
            await c.ExecuteAsync(add
                ? "INSERT INTO team_members (org_id, team_id, user_id) VALUES (@orgId, @teamId, @userId) ON CONFLICT DO NOTHING"
                : "DELETE FROM team_members WHERE org_id = @orgId AND team_id = @teamId AND user_id = @userId", new { orgId, teamId, userId }, tx);
            return true;
        }, ct);
        if (!found) return Failure.NotFound("Team or user");
        await RecordAsync(orgId, add ? AuditEvents.TeamMemberAdded : AuditEvents.TeamMemberRemoved, actor, userId, new() { ["team_id"] = teamId }, ct);
        return (await GetAsync(orgId, teamId, ct))!;
    }

    private static Failure? NameError(string? name) =>
        string.IsNullOrWhiteSpace(name) || name.Trim().Length > 100 ? Failure.Invalid("name", "must be 1 to 100 characters.") : null;

    private static async Task<bool> NameTakenAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string orgId, string name, string? exceptId) =>
        await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM teams WHERE org_id = @orgId AND name = @name AND id <> @exceptId",
            new { orgId, name, exceptId = exceptId ?? "" }, tx) > 0;

    private static async Task<TeamView> ViewAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string orgId, TeamRow t)
    {
        var members = (await c.QueryAsync<string>("SELECT user_id FROM team_members WHERE org_id = @orgId AND team_id = @id ORDER BY user_id",
            new { orgId, id = t.Id }, tx)).ToList();
        return new TeamView(t.Id, t.Name, DateTimeOffset.FromUnixTimeMilliseconds(t.CreatedAt), members);
    }

    private Task RecordAsync(string orgId, string ev, Caller actor, string? userId, Dictionary<string, string?> details, CancellationToken ct) =>
        audit.RecordAsync(new AuditEntry(orgId, ev)
        {
            ActorId = actor.UserId, UserId = userId, Ip = actor.Client.Ip, UserAgent = actor.Client.UserAgent, Details = details,
        }, ct);
}
