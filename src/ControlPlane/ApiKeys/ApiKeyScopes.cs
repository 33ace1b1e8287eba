using System.Text.RegularExpressions;
using Authio.ControlPlane.Api;
using Authio.ControlPlane.Audit;
using Authio.ControlPlane.Orgs;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Users;
using Authio.Shared.ApiKeys;

namespace Authio.ControlPlane.ApiKeys;

/// <summary>
/// API-key scopes are data: the built-ins seeded by migration 4 (<c>org_id</c> NULL) plus the ones an org adds.
/// Who may grant what is decided here, from the caller's own access-token scopes.
/// </summary>
internal sealed partial class ApiKeyScopes(Db db, ApiKeyStore store, AuditLog audit, PlatformOperators operators, TimeProvider time, ILogger<ApiKeyScopes> logger)
{
    /// <summary><c>action:resource</c>, lower case; no wildcards (those are access-token scopes, not grantable ones).</summary>
    [GeneratedRegex("^[a-z][a-z0-9_-]{0,31}:[a-z0-9][a-z0-9_.-]{0,63}$")]
    private static partial Regex NamePattern();

    /// <summary>Whether <paramref name="caller"/> may put <paramref name="scope"/> on a key: it must hold it itself.</summary>
    public static bool CanGrant(Caller caller, string scope)
    {
        // mod (or the admin scope) holds everything, including admin and edge:sync, which nobody else may grant.
        if (caller.IsAdmin)
        {
            return true;
        }

        if (scope is Roles.AdminScope or EdgeApiKeyPaths.EdgeSyncScope)
        {
            return false;
        }
        // The shared grammar: a held 'read:*' covers 'read:invoices' (and 'read:a:b'), exactly as at the edge.
        return Shared.Scopes.ScopeGrammar.AnyCovers(caller.Scopes, scope);
    }

    /// <summary>
    /// The org's scopes, each marked <c>grantable</c> when this caller may put it on a key (what creation would accept),
    /// so a client offers only those.
    /// </summary>
    public async Task<List<ApiKeyScopeView>> ListAsync(Caller caller, CancellationToken ct)
    {
        // edge:sync needs more than holding it: an operator, in an edge org (as creation checks).
        var edgeSync = caller.IsAdmin && await operators.IsOperatorAsync(caller, ct) && await operators.IsEdgeOrgAsync(caller.OrgId, ct);
        return (await store.ListScopesAsync(caller.OrgId, ct))
            .Select(s => new ApiKeyScopeView(s.Name, s.Description, s.OrgId is null,
                s.Name == EdgeApiKeyPaths.EdgeSyncScope ? edgeSync : CanGrant(caller, s.Name)))
            .ToList();
    }

    public async Task<Result<ApiKeyScopeView>> CreateAsync(Caller caller, string? name, string? description, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        name = name?.Trim();
        if (name is null || !NamePattern().IsMatch(name))
        {
            errors["name"] = ["must look like action:resource (lower case letters, digits, _ . -), e.g. read:invoices."];
        }

        description = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
        if (description is { Length: > 200 })
        {
            errors["description"] = ["must be at most 200 characters."];
        }

        if (errors.Count > 0)
        {
            return Failure.Invalid(errors);
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        try
        {
            var created = await db.InOrgAsync(caller.OrgId, async (c, tx) =>
            {
                if ((await ApiKeyStore.KnownScopesAsync(c, tx, caller.OrgId, [name!])).Count > 0)
                {
                    return false;
                }

                await ApiKeyStore.InsertScopeAsync(c, tx, caller.OrgId, name!, description, caller.UserId, now);
                return true;
            }, ct);
            if (!created)
            {
                return Failure.Conflict("A scope with this name already exists.");
            }
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
        return new ApiKeyScopeView(name!, description, false, CanGrant(caller, name!));
    }
}
