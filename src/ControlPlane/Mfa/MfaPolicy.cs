using System.Collections.Concurrent;
using Authio.ControlPlane.Orgs;
using Authio.ControlPlane.Users;

namespace Authio.ControlPlane.Mfa;

/// <summary>
/// An org's MFA policy (<c>PATCH /v1/org {"mfa": …}</c>). <c>off</c>: nobody may enrol a new factor (factors already
/// enrolled are still asked for: a policy never silently weakens a person's sign-in); <c>optional</c> (the default):
/// anyone may enrol, and whoever has enrolled is asked at sign-in; <c>required_for_mod</c>: as optional, and the org's
/// mods must have MFA; <c>required</c>: everyone must.
/// </summary>
internal static class MfaPolicy
{
    public const string Off = "off";
    public const string Optional = "optional";
    public const string RequiredForMod = "required_for_mod";
    public const string Required = "required";

    public static readonly string[] All = [Off, Optional, RequiredForMod, Required];

    public static bool IsKnown(string? value) => value is Off or Optional or RequiredForMod or Required;

    /// <summary>The policy in force for a stored value (unknown or unset: <see cref="Optional"/>).</summary>
    public static string Of(string? stored) => IsKnown(stored) ? stored! : Optional;

    /// <summary>Whether a member with org-wide <paramref name="role"/> must sign in with a second factor under <paramref name="policy"/>.</summary>
    public static bool Requires(string policy, string role) => policy == Required || (policy == RequiredForMod && role == Roles.Mod);
}

/// <summary>
/// Org policies for the per-request checks (enrolment gate, step-up), read at most once a second per org and instance;
/// a change made through this instance is seen at once, one made through another instance within a second.
/// </summary>
internal sealed class MfaPolicyCache(OrgStore orgs)
{
    private static readonly long TtlMs = 1000;
    private readonly ConcurrentDictionary<string, (string Policy, long At)> _cache = new(StringComparer.Ordinal);

    public async ValueTask<string> GetAsync(string orgId, CancellationToken ct)
    {
        if (_cache.TryGetValue(orgId, out var hit) && Environment.TickCount64 - hit.At < TtlMs)
        {
            return hit.Policy;
        }

        var policy = MfaPolicy.Of((await orgs.GetAsync(orgId, ct))?.MfaPolicy);
        if (_cache.Count > 10_000)
        {
            _cache.Clear();
        }

        _cache[orgId] = (policy, Environment.TickCount64);
        return policy;
    }

    public void Forget(string orgId) => _cache.TryRemove(orgId, out _);
}
