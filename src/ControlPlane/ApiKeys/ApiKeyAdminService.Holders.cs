using System.Data.Common;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.ApiKeys;

/// <summary>A key lives only while its creator could still create it: demotion and deactivation revoke the rest.</summary>
internal sealed partial class ApiKeyAdminService
{
    /// <summary>Whether a member with <paramref name="role"/> (null: not an active member) may put <paramref name="scope"/> on a key.</summary>
    public static bool RoleCanGrant(string? role, string scope) =>
        role is not null && ApiKeyScopes.CanGrant(new Caller("", "", "", role, Roles.ScopesOf(role).ToHashSet(StringComparer.Ordinal), new ClientInfo(null, null)), scope);

    /// <summary>
    /// First half of revoking <paramref name="userId"/>'s keys that <paramref name="role"/> (null: deactivated) could not
    /// create: marks them revoked with one UPDATE per key, which row-locks them before the caller's transaction takes the
    /// change-log lock (the order <see cref="RevokeAsync"/> uses). Call inside the org's transaction, then
    /// <see cref="AppendHolderRevocationsAsync"/> after any other row locks.
    /// </summary>
    public async Task<List<ApiKeyRow>> MarkUngrantableRevokedAsync(DbConnection c, DbTransaction tx, string orgId, string userId, string? role, string actorId, long now)
    {
        var doomed = new List<ApiKeyRow>();
        foreach (var k in await ApiKeyStore.LiveKeysCreatedByAsync(c, tx, orgId, userId))
        {
            if (k.ScopeList.All(s => RoleCanGrant(role, s)))
            {
                continue;
            }

            if (!await ApiKeyStore.MarkRevokedAsync(c, tx, orgId, k.Id, actorId, now))
            {
                continue;
            }

            k.RevokedAt = now;
            k.RevokedBy = actorId;
            doomed.Add(k);
        }
        return doomed;
    }

    /// <summary>Second half: the <c>api_key</c> revocations edges receive, in the same transaction.</summary>
    public async Task AppendHolderRevocationsAsync(DbConnection c, DbTransaction tx, IEnumerable<ApiKeyRow> revoked, long now)
    {
        var skew = (long)options.Tokens.ClockSkew.TotalMilliseconds;
        foreach (var k in revoked)
        {
            await changes.AppendRevocationAsync(c, tx, k.OrgId, RevocationKind, k.Id, null, now, k.ExpiresAt is { } e ? Math.Max(e, now) + skew : Forever);
        }
    }

    /// <summary>After commit: logs and audits each revoked key (<c>api_key_revoked</c>, <c>reason</c> = why its creator lost it).</summary>
    public async Task AuditHolderRevocationsAsync(Caller actor, IEnumerable<ApiKeyRow> revoked, string reason, CancellationToken ct)
    {
        foreach (var k in revoked)
        {
            Log.Revoked(logger, k.Id, k.OrgId);
            await audit.RecordAsync(Entry(actor, AuditEvents.ApiKeyRevoked, k, new()
            {
                ["name"] = k.Name, ["reason"] = reason, ["created_by"] = k.CreatedBy, ["scopes"] = k.Scopes,
            }), ct);
        }
    }
}
