using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Authio.EdgeProxy.Keys;

/// <summary>
/// The control plane's published keys, held by org (<c>""</c> = keys without an org). A snapshot or whole-document
/// change replaces every org's keys; an <c>org_keys</c> change replaces one org's. Each org's keys are vetted on their
/// own: a refused update (bad JWK, over a bound) keeps that org's last good keys and is recorded in
/// <see cref="IssuerRegistry.Health"/>; a later valid update of the org clears it. Changes accumulate until
/// <see cref="PublishIfChanged"/>, which publishes the merged set once (a batch of many changes costs one publish).
/// Not thread-safe: the sync loop alone uses it.
/// </summary>
internal sealed partial class OrgKeySets(IssuerRegistry registry, TrustedIssuer issuer, TimeProvider time, ILogger logger)
{
    private Dictionary<string, SigningKey[]> _orgKeys = new(StringComparer.Ordinal);
    private int _keyCount;
    private bool _keysChanged;
    // Since the last publish: a whole replacement (publish everything, merging with the previous set), or exactly
    // which keys left and came (publish the delta).
    private bool _replaced;
    private readonly List<SigningKey> _removed = [];
    private readonly List<SigningKey> _added = [];
    // Per org, a digest of the JWKs its held keys came from: a later snapshot (a reset, a reconnect) whose part for the
    // org is unchanged keeps those keys without vetting and importing them again (see OrgKeySetBenchmarks).
    private Dictionary<string, UInt128> _orgDigests = new(StringComparer.Ordinal);

    /// <summary>Keys held, every org.</summary>
    public int Count => _keyCount;

    /// <summary>
    /// A whole key document (snapshot, or a <c>jwks</c> change from an older control plane): replaces every org's keys.
    /// Each org's keys are vetted on their own, so one org's bad key never costs another org its keys: a refused org
    /// keeps its last good keys. A document over <see cref="JwksParser.MaxControlPlaneKeys"/> is refused whole.
    /// </summary>
    public void ApplyAll(JsonElement jwks)
    {
        var items = JwksParser.KeysOf(jwks);
        if (items is not { } array)
        {
            Refuse(KeySetHealth.WholeSet, "JWKS must be an object with a 'keys' array");
            return;
        }
        var all = array.ToList();
        if (all.Count > JwksParser.MaxControlPlaneKeys)
        {
            Refuse(KeySetHealth.WholeSet, $"JWKS has {all.Count} keys, more than {JwksParser.MaxControlPlaneKeys}");
            return;
        }
        registry.Health.Accepted(KeySetHealth.WholeSet);
        var next = new Dictionary<string, SigningKey[]>(StringComparer.Ordinal);
        var digests = new Dictionary<string, UInt128>(StringComparer.Ordinal);
        // Importing a public key (with its point validation) dominates a cold snapshot (see OrgKeySetBenchmarks): orgs are
        // vetted in parallel, each on its own, and the outcomes applied in order below.
        var groups = all.GroupBy(JwksParser.OrgOf, StringComparer.Ordinal).ToArray();
        var vetted = new OrgVetting[groups.Length];
        Parallel.For(0, groups.Length, i =>
        {
            var group = groups[i];
            var digest = DigestOf(group);
            if (_orgDigests.TryGetValue(group.Key, out var held) && held == digest && _orgKeys.TryGetValue(group.Key, out var same))
            {
                vetted[i] = new OrgVetting(same, null, digest);
            }
            else
            {
                vetted[i] = JwksParser.TryParseOrgKeys([.. group], issuer, group.Key, out var keys, out var refusal)
                    ? new OrgVetting(keys, null, digest)
                    : new OrgVetting(null, refusal, digest);
            }
        });
        for (var i = 0; i < groups.Length; i++)
        {
            var org = groups[i].Key;
            if (vetted[i].Keys is { } keys)
            {
                next[org] = keys;
                digests[org] = vetted[i].Digest;
                continue;
            }
            Refuse(org, vetted[i].Refusal!);
            if (_orgKeys.TryGetValue(org, out var lastGood))
            {
                next[org] = lastGood;
                if (_orgDigests.TryGetValue(org, out var lastDigest))
                {
                    digests[org] = lastDigest;
                }
            }
        }
        _orgKeys = next;
        _orgDigests = digests;
        _keyCount = next.Values.Sum(k => k.Length);
        _keysChanged = true;
        _replaced = true;
    }

    /// <summary>One org's published keys (an <c>org_keys</c> change): replaces that org's keys only; refused → its last good keys stay.</summary>
    public void ApplyOrg(string org, JsonElement jwks)
    {
        if (JwksParser.KeysOf(jwks) is not { } array)
        {
            Refuse(org, "JWKS must be an object with a 'keys' array");
            return;
        }
        if (!JwksParser.TryParseOrgKeys([.. array], issuer, org, out var keys, out var refusal))
        {
            Refuse(org, refusal);
            return;
        }
        var previous = _orgKeys.TryGetValue(org, out var old) ? old.Length : 0;
        if (_keyCount - previous + keys.Length > JwksParser.MaxControlPlaneKeys)
        {
            Refuse(org, $"the key set would exceed {JwksParser.MaxControlPlaneKeys} keys");
            return;
        }
        // An unchanged key keeps its instance (and the tokens cached with it); the others leave or come.
        old ??= [];
        for (var i = 0; i < keys.Length; i++)
        {
            if (Array.Find(old, o => o.SameAs(keys[i])) is { } same)
            {
                keys[i] = same;
            }
            else
            {
                _added.Add(keys[i]);
            }
        }
        foreach (var key in old)
        {
            if (Array.IndexOf(keys, key) < 0)
            {
                _removed.Add(key);
            }
        }
        if (keys.Length == 0)
        {
            _orgKeys.Remove(org);
            _orgDigests.Remove(org);
        }
        else
        {
            _orgKeys[org] = keys;
            _orgDigests[org] = DigestOf(array);
        }
        _keyCount += keys.Length - previous;
        _keysChanged = true;
        if (registry.Health.RefusedCount > 0 && registry.Health.Refused.Any(r => r.Scope == org))
        {
            LogRecovered(logger, org.Length == 0 ? "(none)" : org);
        }
        registry.Health.Accepted(org);
    }

    private readonly record struct OrgVetting(SigningKey[]? Keys, string? Refusal, UInt128 Digest);

    private static UInt128 DigestOf(IEnumerable<JsonElement> jwks)
    {
        var hash = new XxHash128();
        foreach (var jwk in jwks)
        {
            // The raw bytes as received: no transcoding, so text that is not valid UTF-8 digests instead of throwing.
            hash.Append(JsonMarshal.GetRawUtf8Value(jwk));
            hash.Append([0]);
        }
        return hash.GetCurrentHashAsUInt128();
    }

    private void Refuse(string scope, string reason)
    {
        registry.Health.Refuse(scope, reason, time.GetUtcNow());
        LogRefused(logger, scope.Length == 0 ? "(none)" : scope, reason);
    }

    /// <summary>
    /// Publishes the key set once for everything a snapshot or batch changed: after a whole replacement by merging with the
    /// previous set; after per-org changes as a delta (a copy of the kid index plus the keys that left or came).
    /// </summary>
    public void PublishIfChanged()
    {
        if (!_keysChanged)
        {
            return;
        }
        _keysChanged = false;
        var all = new SigningKey[_keyCount];
        var at = 0;
        foreach (var keys in _orgKeys.Values)
        {
            keys.CopyTo(all, at);
            at += keys.Length;
        }
        var set = new KeySet(all, time.GetUtcNow());
        if (_replaced || issuer.Keys is null)
        {
            registry.Publish(issuer, set);
        }
        else
        {
            registry.PublishDelta(issuer, set, _removed, _added);
        }
        _replaced = false;
        _removed.Clear();
        _added.Clear();
    }

    /// <summary>A revoked signing key leaves at once (applied with the batch's other changes).</summary>
    public void Remove(string kid)
    {
        foreach (var (org, keys) in _orgKeys)
        {
            if (Array.FindIndex(keys, k => k.Kid == kid) >= 0)
            {
                // Publishing without it retires the key, which drops every cached token it signed, at once.
                _orgKeys[org] = keys.Where(k => k.Kid != kid).ToArray();
                _orgDigests.Remove(org);
                _removed.AddRange(keys.Where(k => k.Kid == kid));
                _keyCount--;
                _keysChanged = true;
                return;
            }
        }
    }
}
