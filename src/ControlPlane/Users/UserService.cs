using Authio.ControlPlane.Api;
using Authio.ControlPlane.ApiKeys;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Passwords;
using Authio.ControlPlane.Sessions;
using Authio.ControlPlane.Storage;

namespace Authio.ControlPlane.Users;

internal sealed record UserView(string Id, string Email, string Role, bool Active, DateTimeOffset CreatedAt,
    IReadOnlyDictionary<string, string> ProjectRoles, IReadOnlyList<string> Teams);

/// <summary>Users inside the caller's org: creation, deactivation, roles, passwords.</summary>
internal sealed class UserService(Db db, UserStore users, PasswordHasher hasher, PasswordPolicy policy, SessionService sessions, SessionStore sessionStore,
    ApiKeyAdminService apiKeys, AuditLog audit, TimeProvider time)
{
    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public Task<List<UserView>> ListAsync(string orgId, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            var ids = await UserStore.MemberIdsAsync(c, tx, orgId);
            var list = new List<UserView>();
            foreach (var id in ids)
            {
                list.Add((await ViewAsync(c, tx, orgId, id))!);
            }

            return list;
        }, ct);

    /// <summary>
    /// Up to <paramref name="limit"/> users in email order after <paramref name="afterEmail"/>, whose email or id contains
    /// <paramref name="search"/> (case-insensitive); plus whether more follow.
    /// </summary>
    public Task<(List<UserView> Users, bool More)> PageAsync(string orgId, string? search, string? afterEmail, int limit, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) =>
        {
            var pattern = string.IsNullOrWhiteSpace(search) ? null
                : "%" + search.Trim().ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal)
                    .Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
            var ids = await UserStore.MemberIdsPageAsync(c, tx, orgId, pattern, afterEmail, limit + 1);
            var list = new List<UserView>();
            foreach (var id in ids.Take(limit))
            {
                list.Add((await ViewAsync(c, tx, orgId, id))!);
            }

            return (list, ids.Count > limit);
        }, ct);

    public Task<UserView?> GetAsync(string orgId, string userId, CancellationToken ct) =>
        db.InOrgAsync(orgId, (c, tx) => ViewAsync(c, tx, orgId, userId), ct);

    public async Task<Result<UserView>> CreateAsync(string orgId, string? email, string? password, string? role, Caller actor, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(email) || !email.Contains('@', StringComparison.Ordinal) || email.Length > 254)
        {
            errors["email"] = ["must be an email address."];
        }

        var pw = policy.Check(password);
        if (pw.Length > 0)
        {
            errors["password"] = pw;
        }

        role ??= Roles.Explore;
        if (!Roles.IsKnown(role))
        {
            errors["role"] = ["must be one of explore, create, mod."];
        }

        if (errors.Count > 0)
        {
            return Failure.Invalid(errors);
        }

        var normalized = UserStore.NormalizeEmail(email!);
        // Emails are global sign-in identities; saying "exists" here is limited to admins, who could learn it by trying anyway.
        if (await users.FindByEmailAsync(normalized, ct) is not null)
        {
            return Failure.Conflict("A user with this email already exists.");
        }

        var now = Now;
        var user = new UserRow { Id = Ids.New("usr"), Email = normalized, PasswordHash = hasher.Hash(password!), PasswordChangedAt = now, CreatedAt = now };
        try
        {
            await db.InOrgAsync(orgId, async (c, tx) =>
            {
                await UserStore.InsertAsync(c, tx, user);
                await UserStore.InsertMembershipAsync(c, tx, orgId, user.Id, role, now);
                return 0;
            }, ct);
        }
        catch (System.Data.Common.DbException ex) when (Db.IsUniqueViolation(ex))
        {
            return Failure.Conflict("A user with this email already exists.");
        }
        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.UserCreated)
        {
            ActorId = actor.UserId, UserId = user.Id, Email = normalized, Ip = actor.Client.Ip, UserAgent = actor.Client.UserAgent, Details = new() { ["role"] = role },
        }, ct);
        return (await GetAsync(orgId, user.Id, ct))!;
    }

    private sealed record Demotion(bool Found, bool Changed, string? PreviousRole = null, List<ApiKeyRow>? RevokedKeys = null, int SessionsEnded = 0);

    /// <summary>
    /// Deactivation and org-wide role changes, in one transaction under the user's membership lock: the change, the
    /// revocation of the user's API keys the new standing could not create (all of them when deactivated), and the end
    /// of every session of the user in the org (a <c>sid</c> revocation each and a <c>user_not_before</c>), so the old
    /// tokens stop at once on the admin API and at edges within the feed's propagation bound. <paramref name="newRole"/>
    /// null = deactivate. Nothing happens when nothing changes.
    /// </summary>
    private Task<Demotion> ChangeStandingAsync(string orgId, string userId, string? newRole, string actorId, CancellationToken ct)
    {
        var now = Now;
        return db.InOrgAsync(orgId, async (c, tx) =>
        {
            if (await SessionStore.LockMemberAsync(c, tx, orgId, userId) is not { } m)
            {
                return new Demotion(false, false);
            }

            if (newRole is null ? !m.Active : newRole == m.Role)
            {
                return new Demotion(true, false, m.Role);
            }

            if (newRole is null)
            {
                await UserStore.DeactivateMembershipAsync(c, tx, orgId, userId, now);
            }
            else
            {
                await UserStore.SetRoleAsync(c, tx, orgId, userId, newRole);
            }
            // Row locks in the store-wide order: membership, keys, sessions, then the change-log lock the appends take.
            var keys = await apiKeys.MarkUngrantableRevokedAsync(c, tx, orgId, userId, newRole, actorId, now);
            var ended = await sessionStore.EndAllAsync(c, tx, orgId, userId, newRole is null ? EndReasons.Deactivated : EndReasons.RoleChanged, now);
            await apiKeys.AppendHolderRevocationsAsync(c, tx, keys, now);
            return new Demotion(true, true, m.Role, keys, ended.Count);
        }, ct);
    }

    private async Task AuditConsequencesAsync(string orgId, string userId, Demotion d, string reason, Caller actor, CancellationToken ct)
    {
        await apiKeys.AuditHolderRevocationsAsync(actor, d.RevokedKeys!, reason, ct);
        await sessions.AuditForceLogoutAsync(orgId, userId, reason, actor.UserId, actor.Client, d.SessionsEnded, ct);
    }

    public async Task<Result<UserView>> DeactivateAsync(string orgId, string userId, Caller actor, CancellationToken ct)
    {
        if (userId == actor.UserId)
        {
            return Failure.Conflict("You cannot deactivate yourself.");
        }

        var d = await ChangeStandingAsync(orgId, userId, null, actor.UserId, ct);
        var view = await GetAsync(orgId, userId, ct);
        if (!d.Found || view is null)
        {
            return Failure.NotFound("User");
        }

        if (!d.Changed)
        {
            return view;
        }

        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.UserDeactivated)
        {
            ActorId = actor.UserId, UserId = userId, Email = view.Email, Ip = actor.Client.Ip, UserAgent = actor.Client.UserAgent,
        }, ct);
        await AuditConsequencesAsync(orgId, userId, d, EndReasons.Deactivated, actor, ct);
        return view;
    }

    /// <summary>
    /// Org-wide when <paramref name="projectId"/> is null (a change ends the user's sessions in the org and revokes their
    /// keys the new role could not create), else for that project only: access tokens carry project roles (<c>projects</c>),
    /// so lowering one ends the user's sessions in the org like an org-wide demotion; raising or adding one shows in the next token.
    /// </summary>
    public async Task<Result<UserView>> AssignRoleAsync(string orgId, string userId, string? role, string? projectId, Caller actor, CancellationToken ct)
    {
        if (!Roles.IsKnown(role))
        {
            return Failure.Invalid("role", "must be one of explore, create, mod.");
        }

        if (projectId is not null && (projectId.Length is 0 or > 100))
        {
            return Failure.Invalid("project_id", "must be 1 to 100 characters.");
        }

        if (projectId is null)
        {
            return await ChangeOrgRoleAsync(orgId, userId, role!, AuditEvents.RoleAssigned, actor, ct);
        }

        var lowered = false;
        var found = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            if (await UserStore.MemberAsync(c, tx, orgId, userId) is null)
            {
                return false;
            }

            var previous = (await UserStore.ProjectRolesOfAsync(c, tx, orgId, userId)).GetValueOrDefault(projectId);
            lowered = Roles.RankOf(previous) > Roles.RankOf(role);
            await UserStore.SetProjectRoleAsync(c, tx, orgId, userId, projectId, role!);
            return true;
        }, ct);
        if (!found)
        {
            return Failure.NotFound("User");
        }

        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.RoleAssigned)
        {
            ActorId = actor.UserId, UserId = userId, Ip = actor.Client.Ip, UserAgent = actor.Client.UserAgent,
            Details = new() { ["role"] = role, ["project_id"] = projectId },
        }, ct);
        if (lowered)
        {
            await sessions.EndOthersAsync(orgId, userId, null, EndReasons.RoleChanged, actor.UserId, actor.Client, ct);
        }

        return (await GetAsync(orgId, userId, ct))!;
    }

    private async Task<Result<UserView>> ChangeOrgRoleAsync(string orgId, string userId, string role, string eventType, Caller actor, CancellationToken ct)
    {
        var d = await ChangeStandingAsync(orgId, userId, role, actor.UserId, ct);
        if (!d.Found)
        {
            return Failure.NotFound("User");
        }

        await audit.RecordAsync(new AuditEntry(orgId, eventType)
        {
            ActorId = actor.UserId, UserId = userId, Ip = actor.Client.Ip, UserAgent = actor.Client.UserAgent,
            Details = eventType == AuditEvents.RoleAssigned
                ? new() { ["role"] = role, ["project_id"] = null, ["previous_role"] = d.PreviousRole }
                : new() { ["project_id"] = null, ["previous_role"] = d.PreviousRole },
        }, ct);
        if (d.Changed)
        {
            await AuditConsequencesAsync(orgId, userId, d, EndReasons.RoleChanged, actor, ct);
        }

        return (await GetAsync(orgId, userId, ct))!;
    }

    /// <summary>Removes a project role, or resets the org-wide role to the least privileged, <c>explore</c> (a change ends sessions, as above).</summary>
    public async Task<Result<UserView>> RevokeRoleAsync(string orgId, string userId, string? projectId, Caller actor, CancellationToken ct)
    {
        if (projectId is null)
        {
            return await ChangeOrgRoleAsync(orgId, userId, Roles.Explore, AuditEvents.RoleRevoked, actor, ct);
        }

        var removed = 0;
        var found = await db.InOrgAsync(orgId, async (c, tx) =>
        {
            if (await UserStore.MemberAsync(c, tx, orgId, userId) is null)
            {
                return false;
            }

            removed = await UserStore.RemoveProjectRoleAsync(c, tx, orgId, userId, projectId);
            return true;
        }, ct);
        if (!found)
        {
            return Failure.NotFound("User");
        }

        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.RoleRevoked)
        {
            ActorId = actor.UserId, UserId = userId, Ip = actor.Client.Ip, UserAgent = actor.Client.UserAgent, Details = new() { ["project_id"] = projectId },
        }, ct);
        // Live tokens name the removed project role: they end with the sessions, at /v1 at once and at edges via the feed.
        if (removed > 0)
        {
            await sessions.EndOthersAsync(orgId, userId, null, EndReasons.RoleChanged, actor.UserId, actor.Client, ct);
        }

        return (await GetAsync(orgId, userId, ct))!;
    }

    /// <summary>Self-service needs the current password; a <c>mod</c> may set another user's. All other sessions end.</summary>
    public async Task<Result<UserView>> ChangePasswordAsync(string orgId, string userId, string? currentPassword, string? newPassword, Caller actor, CancellationToken ct)
    {
        var view = await GetAsync(orgId, userId, ct);
        if (view is null)
        {
            return Failure.NotFound("User");
        }

        var self = userId == actor.UserId;
        var user = (await users.GetInOrgAsync(orgId, userId, ct))!;
        if (self && (currentPassword is null || !hasher.Verify(currentPassword, user.PasswordHash)))
        {
            return Failure.Invalid("current_password", "is incorrect.");
        }
        // The password opens every org the person belongs to; one org's mod must not gain access to another's.
        if (!self && (await users.OrgsOfAsync(userId, ct)).Any(o => o.OrgId != orgId))
        {
            return Failure.Forbidden("This user also belongs to other organizations; only they can change their password.");
        }

        var errors = policy.Check(newPassword);
        if (errors.Length > 0)
        {
            return Failure.Invalid(new Dictionary<string, string[]> { ["new_password"] = errors }, "The new password does not meet the policy.");
        }

        await users.SetPasswordAsync(orgId, userId, hasher.Hash(newPassword!), Now, ct);
        await audit.RecordAsync(new AuditEntry(orgId, AuditEvents.PasswordChanged)
        {
            ActorId = actor.UserId, UserId = userId, SessionId = self ? actor.SessionId : null, Ip = actor.Client.Ip, UserAgent = actor.Client.UserAgent,
        }, ct);
        // The password is the user's across orgs, so sessions end in every org they belong to.
        foreach (var (org, _) in await users.OrgsOfAsync(userId, ct))
        {
            await sessions.EndOthersAsync(org, userId, self ? actor.SessionId : null, EndReasons.PasswordChanged, actor.UserId, actor.Client, ct);
        }

        return view;
    }

    private static async Task<UserView?> ViewAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string orgId, string userId)
    {
        var m = await UserStore.MemberAsync(c, tx, orgId, userId);
        if (m is null)
        {
            return null;
        }

        var projects = (await UserStore.ProjectRolesAsync(c, tx, orgId, userId)).ToDictionary(p => p.ProjectId, p => p.Role);
        var teams = await UserStore.TeamsOfAsync(c, tx, orgId, userId);
        return new UserView(m.UserId, m.Email, m.Role, m.Active == 1, DateTimeOffset.FromUnixTimeMilliseconds(m.CreatedAt), projects, teams);
    }
}
