using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.Orgs;

/// <summary>Creating orgs (bootstrap and <c>POST /v1/orgs</c>); the creator becomes the new org's <c>mod</c>.</summary>
internal sealed class OrgService(Db db, AuditLog audit, SigningKeys.SigningKeyStore keys, TimeProvider time)
{
    public async Task<OrgRow> CreateAsync(string name, string creatorUserId, ClientInfo client, CancellationToken ct, UserRow? newUser = null)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var org = new OrgRow { Id = Ids.New("org"), Name = name, CreatedAt = now };
        await db.InOrgAsync(org.Id, async (c, tx) =>
        {
            await OrgStore.InsertAsync(c, tx, org);
            if (newUser is not null)
            {
                await UserStore.InsertAsync(c, tx, newUser);
            }

            await UserStore.InsertMembershipAsync(c, tx, org.Id, creatorUserId, Roles.Mod, now);
            return 0;
        }, ct);
        await audit.RecordAsync(new AuditEntry(org.Id, AuditEvents.OrgCreated)
        {
            ActorId = creatorUserId, Ip = client.Ip, UserAgent = client.UserAgent, Details = new() { ["name"] = name },
        }, ct);
        if (newUser is not null)
        {
            await audit.RecordAsync(new AuditEntry(org.Id, AuditEvents.UserCreated) { UserId = newUser.Id, Email = newUser.Email, Details = new() { ["role"] = Roles.Mod, ["via"] = "bootstrap" } }, ct);
        }

        await audit.RecordAsync(new AuditEntry(org.Id, AuditEvents.RoleAssigned)
        {
            ActorId = creatorUserId, UserId = creatorUserId, Details = new() { ["role"] = Roles.Mod, ["project_id"] = null },
        }, ct);
        // The org's own key ring starts with it, so its first tokens are signed by a key edges already know.
        await keys.EnsureSignerAsync(org.Id, creatorUserId, ct);
        return org;
    }
}
