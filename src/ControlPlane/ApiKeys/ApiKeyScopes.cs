using System.Text.RegularExpressions;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Users;
using Authio.Shared.ApiKeys;
using Dapper;

namespace Authio.ControlPlane.ApiKeys;

/// <summary>
/// API-key scopes are data: the built-ins seeded by migration 4 (<c>org_id</c> NULL) plus the ones an org adds.
/// Who may grant what is decided here, from the caller's own access-token scopes.
/// </summary>
internal sealed partial class ApiKeyScopes(Db db, AuditLog audit, TimeProvider time, ILogger<ApiKeyScopes> logger)
{
    /// <summary><c>action:resource</c>, lower case; no wildcards (those are access-token scopes, not grantable ones).</summary>
    [GeneratedRegex("^[a-z][a-z0-9_-]{0,31}:[a-z0-9][a-z0-9_.-]{0,63}$")]
    private static partial Regex NamePattern();

    /// <summary>Whether <paramref name="caller"/> may put <paramref name="scope"/> on a key: it must hold it itself.</summary>
    public static bool CanGrant(Caller caller, string scope)
    {
        // mod (or the admin scope) holds everything, including admin and edge:sync, which nobody else may grant.
        if (caller.IsAdmin) return true;
        if (scope is Roles.AdminScope or EdgeApiKeyPaths.EdgeSyncScope) return false;
        // The shared grammar: a held 'read:*' covers 'read:invoices' (and 'read:a:b'), exactly as at the edge.
        return Shared.Scopes.ScopeGrammar.AnyCovers(caller.Scopes, scope);
    }

    public Task<List<ApiKeyScopeView>> ListAsync(string orgId, CancellationToken ct) =>
        db.InOrgAsync(orgId, async (c, tx) => (await c.QueryAsync<(string Name, string? Description, string? OrgId)>("""
            SELECT name, description, org_id FROM api_key_scopes WHERE org_id IS NULL OR org_id = @orgId
            ORDER BY CASE WHEN org_id IS NULL THEN 0 ELSE 1 END, name
            """, new { orgId }, tx)).Select(s => new ApiKeyScopeView(s.Name, s.Description, s.OrgId is null)).ToList(), ct);

    /// <summary>The subset of <paramref name="names"/> that are scopes of the org (built-in or its own).</summary>
    public static async Task<HashSet<string>> KnownAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string orgId, IEnumerable<string> names)
    {
        // All of the org's scopes (a short list) rather than "IN @names", which Dapper expands differently per provider.
        var all = (await c.QueryAsync<string>("SELECT name FROM api_key_scopes WHERE org_id IS NULL OR org_id = @orgId", new { orgId }, tx))
            .ToHashSet(StringComparer.Ordinal);
        return names.Where(all.Contains).ToHashSet(StringComparer.Ordinal);
    }

    public async Task<Result<ApiKeyScopeView>> CreateAsync(Caller caller, string? name, string? description, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        name = name?.Trim();
        if (name is null || !NamePattern().IsMatch(name)) errors["name"] = ["must look like action:resource (lower case letters, digits, _ . -), e.g. read:invoices."];
        description = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
        if (description is { Length: > 200 }) errors["description"] = ["must be at most 200 characters."];
        if (errors.Count > 0) return new Failure(400, Shared.Errors.ErrorCodes.ValidationFailed, "Validation failed", "One or more fields are invalid.", errors);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        try
        {
            var created = await db.InOrgAsync(caller.OrgId, async (c, tx) =>
            {
                if ((await KnownAsync(c, tx, caller.OrgId, [name!])).Count > 0) return false;
                await c.ExecuteAsync("""
                    INSERT INTO api_key_scopes (org_id, name, description, created_by, created_at) VALUES (@orgId, @name, @description, @by, @now)
                    """, new { orgId = caller.OrgId, name, description, by = caller.UserId, now }, tx);
                return true;
            }, ct);
            if (!created) return Failure.Conflict("A scope with this name already exists.");
        }
        catch (System.Data.Common.DbException ex) when (Db.IsUniqueViolation(ex))
        {
            return Failure.Conflict("A scope with this name already exists.");
        }
        Log.ScopeCreated(logger, caller.OrgId, name!);
        await audit.RecordAsync(new AuditEntry(caller.OrgId, AuditEvents.ApiKeyScopeCreated)
        {
            ActorId = caller.UserId, SessionId = caller.SessionId, Ip = caller.Client.Ip, UserAgent = caller.Client.UserAgent,
            Details = new() { ["scope"] = name, ["description"] = description },
        }, ct);
        return new ApiKeyScopeView(name!, description, false);
    }
}
