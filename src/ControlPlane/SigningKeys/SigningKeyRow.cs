namespace Authio.ControlPlane.SigningKeys;

internal sealed class SigningKeyRow
{
    public string Kid { get; set; } = "";
    /// <summary>The org whose tokens this key signs; null for a key from before per-org key rings (legacy).</summary>
    public string? OrgId { get; set; }
    public long CreatedAt { get; set; }
    public long ActivateAt { get; set; }
    public long? RetireAt { get; set; }
    public long? RevokedAt { get; set; }
    public string X { get; set; } = "";
    public string Y { get; set; } = "";
    public string SealedPrivate { get; set; } = "";
    public long ActivationAudited { get; set; }
    public long RetirementAudited { get; set; }
}

/// <summary>Lifecycle: pending (published, not signing) → active (signing) → verifying (published only) → retired; or revoked at once.</summary>
internal static class KeyStates
{
    public const string Pending = "pending";
    public const string Active = "active";
    public const string Verifying = "verifying";
    public const string Retired = "retired";
    public const string Revoked = "revoked";

    /// <summary>States per kid at <paramref name="now"/>; exactly one key is active when any is eligible.</summary>
    public static Dictionary<string, string> Compute(IReadOnlyList<SigningKeyRow> keys, long now)
    {
        var states = new Dictionary<string, string>();
        SigningKeyRow? signer = null;
        foreach (var k in keys)
        {
            if (k.RevokedAt is not null)
            {
                states[k.Kid] = Revoked;
            }
            else if (k.RetireAt is { } r && now >= r)
            {
                states[k.Kid] = Retired;
            }
            else if (now < k.ActivateAt)
            {
                states[k.Kid] = Pending;
            }
            else
            {
                states[k.Kid] = Verifying;
                if (signer is null || k.ActivateAt > signer.ActivateAt || (k.ActivateAt == signer.ActivateAt && k.CreatedAt > signer.CreatedAt))
                {
                    signer = k;
                }
            }
        }
        if (signer is not null)
        {
            states[signer.Kid] = Active;
        }

        return states;
    }

    /// <summary>States per kid, each org's keys (and the keys without an org) computed as one ring.</summary>
    public static Dictionary<string, string> ComputePerOrg(IReadOnlyList<SigningKeyRow> keys, long now)
    {
        var states = new Dictionary<string, string>();
        foreach (var ring in keys.GroupBy(k => k.OrgId ?? ""))
        {
            foreach (var (kid, state) in Compute(ring.ToList(), now))
            {
                states[kid] = state;
            }
        }

        return states;
    }

    public static bool IsPublished(string state) => state is Pending or Active or Verifying;
}
