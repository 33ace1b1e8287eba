using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.Teams;

internal sealed record TeamView(string Id, string Name, DateTimeOffset CreatedAt, IReadOnlyList<string> Members);

/// <summary>Teams group users inside an org; membership shows up in access tokens as <c>teams</c>.</summary>
internal sealed class TeamService(Db db, TeamStore store, AuditLog audit, TimeProvider time)
{
    public async Task<List<TeamView>> ListAsync(string orgId, CancellationToken ct) =>
        (await store.ListAsync(orgId, ct)).Select(t => View(t.Team, t.Members)).ToList();

    public async Task<TeamView?> GetAsync(string orgId, string id, CancellationToken ct) =>
        await store.GetAsync(orgId, id, ct) is { } t ? View(t.Team, t.Members) : null;

    public async Task<Result<TeamView>> CreateAsync(string orgId, string? name, Caller actor, CancellationToken ct)
    {
        if (NameError(name) is { } bad)
        {
            return bad;
        }

        var row = new TeamRow { Id = Ids.New("team"), Name = name!.Trim(), CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds() };
        bool ok;
        try
        {
            ok = await db.InOrgAsync(orgId, async (c, tx) =>
            {
                if (await TeamStore.NameTakenAsync(c, tx, orgId, row.Name, null))
                {
                    return false;
                }

                await TeamStore.InsertAsync(c, tx, orgId, row);
                return true;
            }, ct);
        }
        catch (System.Data.Common.DbException ex) when (Db.IsUniqueViolation(ex))
        {
            ok = false;
        }
        if (!ok)
        {
            return Failure.Conflict("A team with this name already exists.");
        }

        await RecordAsync(orgId, AuditEvents.TeamCreated, actor, null, new() { ["team_id"] = row.Id, ["name"] = row.Name }, ct);
        return (await GetAsync(orgId, row.Id, ct))!;
    }

    public async Task<Result<TeamView>> RenameAsync(string orgId, string id, string? name, Caller actor, CancellationToken ct)
    {
        if (NameError(name) is { } bad)
        {
            return bad;
        }

        var trimmed = name!.Trim();
        var outcome = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            if (await TeamStore.NameTakenAsync(c, tx, orgId, trimmed, id))
            {
                return 409;
            }

            return await TeamStore.RenameAsync(c, tx, orgId, id, trimmed) ? 200 : 404;
        }, ct);
        if (outcome == 404)
        {
            return Failure.NotFound("Team");
        }

        if (outcome == 409)
        {
            return Failure.Conflict("A team with this name already exists.");
        }

        await RecordAsync(orgId, AuditEvents.TeamRenamed, actor, null, new() { ["team_id"] = id, ["name"] = trimmed }, ct);
        return (await GetAsync(orgId, id, ct))!;
    }

    public async Task<bool> DeleteAsync(string orgId, string id, Caller actor, CancellationToken ct)
    {
        var deleted = await store.DeleteAsync(orgId, id, ct);
        if (deleted)
        {
            await RecordAsync(orgId, AuditEvents.TeamDeleted, actor, null, new() { ["team_id"] = id }, ct);
        }

        return deleted;
    }

    /// <summary>Adds or removes a member; both must exist in the org, otherwise not found.</summary>
    public async Task<Result<TeamView>> SetMemberAsync(string orgId, string teamId, string userId, bool add, Caller actor, CancellationToken ct)
    {
        var found = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            if (!await TeamStore.ExistsAsync(c, tx, orgId, teamId) || await UserStore.MemberAsync(c, tx, orgId, userId) is null)
            {
                return false;
            }

            if (add)
            {
                await TeamStore.AddMemberAsync(c, tx, orgId, teamId, userId);
            }
            else
            {
                await TeamStore.RemoveMemberAsync(c, tx, orgId, teamId, userId);
            }
            return true;
        }, ct);
        if (!found)
        {
            return Failure.NotFound("Team or user");
        }

        await RecordAsync(orgId, add ? AuditEvents.TeamMemberAdded : AuditEvents.TeamMemberRemoved, actor, userId, new() { ["team_id"] = teamId }, ct);
        return (await GetAsync(orgId, teamId, ct))!;
    }

    private static Failure? NameError(string? name) =>
        string.IsNullOrWhiteSpace(name) || name.Trim().Length > 100 ? Failure.Invalid("name", "must be 1 to 100 characters.") : null;

    private static TeamView View(TeamRow t, List<string> members) =>
        new(t.Id, t.Name, DateTimeOffset.FromUnixTimeMilliseconds(t.CreatedAt), members);

    private Task RecordAsync(string orgId, string ev, Caller actor, string? userId, Dictionary<string, string?> details, CancellationToken ct) =>
        audit.RecordAsync(new AuditEntry(orgId, ev)
        {
            ActorId = actor.UserId, UserId = userId, Ip = actor.Client.Ip, UserAgent = actor.Client.UserAgent, Details = details,
        }, ct);
}
