using Authio.ControlPlane.Api;
using Authio.ControlPlane.Hosting;
using Authio.ControlPlane.Passwords;
using Authio.ControlPlane.Storage;
using Authio.ControlPlane.Users;
using Authio.Shared.Configuration;

namespace Authio.ControlPlane.Orgs;

/// <summary>First start: with no users at all, creates the first org and its <c>mod</c> from <c>ControlPlane:Bootstrap:*</c>.</summary>
internal sealed partial class Bootstrap(UserStore users, OrgService orgs, OrgStore orgStore, PasswordHasher hasher, PasswordPolicy policy,
    ControlPlaneOptions options, TimeProvider time, ILogger<Bootstrap> logger)
{
    public async Task RunAsync(CancellationToken ct)
    {
        if (await users.CountAsync(ct) > 0)
        {
            return;
        }

        var b = options.Bootstrap;
        if (string.IsNullOrWhiteSpace(b.AdminEmail) || string.IsNullOrWhiteSpace(b.OrgName) || string.IsNullOrEmpty(b.AdminPassword))
        {
            Log.Needed(logger);
            return;
        }
        if (!b.AdminEmail.Contains('@', StringComparison.Ordinal))
        {
            throw new ConfigurationException("ControlPlane:Bootstrap:AdminEmail", "must be an email address.");
        }

        var problems = policy.Check(b.AdminPassword);
        if (problems.Length > 0)
        {
            throw new ConfigurationException("ControlPlane:Bootstrap:AdminPassword", string.Join(" ", problems));
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var user = new UserRow
        {
            Id = Ids.New("usr"), Email = UserStore.NormalizeEmail(b.AdminEmail), PasswordHash = hasher.Hash(b.AdminPassword),
            PasswordChangedAt = now, CreatedAt = now,
        };
        var org = await orgs.CreateAsync(b.OrgName.Trim(), user.Id, new ClientInfo(null, null), ct, newUser: user);
        // The bootstrap org is the operator org: its mods act for the platform (edge keys, new orgs).
        await orgStore.MarkOperatorIfNoneAsync(org.Id, ct);
        Log.Done(logger, org.Id, user.Id);
    }
}
