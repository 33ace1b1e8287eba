using Authio.EdgeProxy.Configuration;

namespace Authio.EdgeProxy.Keys;

/// <summary>
/// All trusted issuers and a flat index of every key they publish. The index is an immutable snapshot rebuilt
/// whenever a key set changes and read lock-free by the validator.
/// </summary>
internal sealed class IssuerRegistry
{
    private readonly Lock _publishLock = new();
    private volatile KeyIndex _index;
    private volatile TrustedIssuer[] _issuers;

    public IssuerRegistry(IReadOnlyList<TrustedIssuer> issuers)
    {
        _issuers = [.. issuers];
        _index = KeyIndex.Build(_issuers);
    }

    /// <summary>Configured issuers, plus the control plane's issuer once the edge-sync snapshot has named it.</summary>
    public IReadOnlyList<TrustedIssuer> Issuers => _issuers;

    /// <summary>
    /// Adds an issuer learned at run time (the control plane's, from the sync snapshot), or returns the one already
    /// registered under that name with the same audiences.
    /// </summary>
    public TrustedIssuer AddOrGet(IssuerOptions options)
    {
        lock (_publishLock)
        {
            var existing = Array.Find(_issuers, i => i.Name == options.Issuer);
            if (existing is not null && existing.Options.Audiences.SequenceEqual(options.Audiences))
            {
                return existing;
            }
            var issuer = new TrustedIssuer(options);
            existing?.Keys?.Keys.ToList().ForEach(key => key.Retire());
            _issuers = [.. _issuers.Where(i => i != existing), issuer];
            _index = KeyIndex.Build(_issuers);
            return issuer;
        }
    }

    public KeyIndex Index => _index;

    public bool AllReady => Issuers.All(i => i.IsReady);

    /// <summary>
    /// Swaps in <paramref name="next"/> for <paramref name="issuer"/>. Keys that are unchanged keep their instance
    /// (cached tokens stay valid); keys that disappeared are retired, which drops every cached token they signed.
    /// </summary>
    public KeySet? Publish(TrustedIssuer issuer, KeySet? next)
    {
        lock (_publishLock)
        {
            var previous = issuer.Keys;
            if (next is not null && previous is not null)
            {
                // By kid, so a change to one org's keys among 30 000 costs one pass, not a search per key.
                var byKid = new Dictionary<string, SigningKey>(previous.Keys.Length, StringComparer.Ordinal);
                foreach (var old in previous.Keys)
                {
                    if (old.Kid is not null)
                    {
                        byKid.TryAdd(old.Kid, old);
                    }
                }
                var merged = new SigningKey[next.Keys.Length];
                for (var i = 0; i < merged.Length; i++)
                {
                    var candidate = next.Keys[i];
                    merged[i] = candidate.Kid is not null
                        ? byKid.TryGetValue(candidate.Kid, out var old) && old.SameAs(candidate) ? old : candidate
                        : Array.Find(previous.Keys, o => o.Kid is null && o.SameAs(candidate)) ?? candidate;
                }
                next = new KeySet(merged, next.LoadedAt);
            }
            if (previous is not null)
            {
                var kept = next is null ? null : new HashSet<SigningKey>(next.Keys, ReferenceEqualityComparer.Instance);
                foreach (var old in previous.Keys)
                {
                    if (kept is null || !kept.Contains(old))
                    {
                        old.Retire();
                    }
                }
            }
            issuer.SetKeys(next);
            _index = KeyIndex.Build(_issuers);
            return previous;
        }
    }

    /// <summary>
    /// Swaps in <paramref name="next"/> for <paramref name="issuer"/> when the caller knows exactly what changed (one org's
    /// keys): <paramref name="removed"/> are retired, and the kid index is updated from a copy of the current one instead
    /// of being rebuilt from every key, so a change among 30 000 keys costs a dictionary copy, not a rebuild.
    /// </summary>
    public void PublishDelta(TrustedIssuer issuer, KeySet next, IReadOnlyList<SigningKey> removed, IReadOnlyList<SigningKey> added)
    {
        lock (_publishLock)
        {
            foreach (var old in removed)
            {
                old.Retire();
            }
            issuer.SetKeys(next);
            _index = _index.With(_issuers, removed, added);
        }
    }

    /// <summary>Key sets this edge was sent and refused (it kept the last good ones): reported on /readyz and in metrics.</summary>
    public KeySetHealth Health { get; } = new();
}

/// <summary>
/// Immutable lookup of every trusted key: by kid in O(1) (a dictionary keyed by the 64-bit XxHash3 of the kid's UTF-8
/// bytes, candidates then compared byte for byte, so a lookup allocates nothing), plus the flat list for kid-less tokens.
/// </summary>
internal sealed class KeyIndex
{
    private readonly Dictionary<ulong, SigningKey[]> _byKid;

    private KeyIndex(SigningKey[] asymmetric, HmacSigningKey[] hmac, Dictionary<ulong, SigningKey[]> byKid)
    {
        Asymmetric = asymmetric;
        Hmac = hmac;
        _byKid = byKid;
    }

    public SigningKey[] Asymmetric { get; }
    public HmacSigningKey[] Hmac { get; }

    /// <summary>Keys whose kid hashes like <paramref name="kid"/> (compare <see cref="SigningKey.KidUtf8"/> exactly); empty when none.</summary>
    public ReadOnlySpan<SigningKey> Candidates(ReadOnlySpan<byte> kid) =>
        _byKid.TryGetValue(HashKid(kid), out var keys) ? keys : [];

    public static ulong HashKid(ReadOnlySpan<byte> kid) => System.IO.Hashing.XxHash3.HashToUInt64(kid);

    /// <summary>This index with <paramref name="added"/> keys in and <paramref name="removed"/> ones (by reference) out.</summary>
    public KeyIndex With(IReadOnlyList<TrustedIssuer> issuers, IReadOnlyList<SigningKey> removed, IReadOnlyList<SigningKey> added)
    {
        var (asymmetric, hmac) = Collect(issuers);
        var byKid = new Dictionary<ulong, SigningKey[]>(_byKid);
        foreach (var key in added)
        {
            Add(byKid, key);
        }
        foreach (var key in removed)
        {
            var hash = HashKid(key.KidUtf8);
            if (key.Kid is not null && byKid.TryGetValue(hash, out var candidates))
            {
                var kept = Array.FindAll(candidates, c => !ReferenceEquals(c, key));
                if (kept.Length == 0)
                {
                    byKid.Remove(hash);
                }
                else
                {
                    byKid[hash] = kept;
                }
            }
        }
        return new KeyIndex(asymmetric, hmac, byKid);
    }

    private static void Add(Dictionary<ulong, SigningKey[]> byKid, SigningKey key)
    {
        if (key.Kid is null)
        {
            return;
        }
        var hash = HashKid(key.KidUtf8);
        // Several issuers may use the same kid (and a 64-bit collision is possible): keep every candidate, in order.
        byKid[hash] = byKid.TryGetValue(hash, out var existing) ? [.. existing, key] : [key];
    }

    private static (SigningKey[] Asymmetric, HmacSigningKey[] Hmac) Collect(IReadOnlyList<TrustedIssuer> issuers)
    {
        var asymmetric = new List<SigningKey>();
        var hmac = new List<HmacSigningKey>();
        foreach (var issuer in issuers)
        {
            if (issuer.Keys is { } set)
            {
                asymmetric.AddRange(set.Keys);
            }
            if (issuer.Hmac is { } secret && issuer.Allows(JwsAlgorithm.HS256))
            {
                hmac.Add(secret);
            }
        }
        return ([.. asymmetric], [.. hmac]);
    }

    public static KeyIndex Build(IReadOnlyList<TrustedIssuer> issuers)
    {
        var (asymmetric, hmac) = Collect(issuers);
        var byKid = new Dictionary<ulong, SigningKey[]>(asymmetric.Length);
        foreach (var key in asymmetric)
        {
            Add(byKid, key);
        }
        return new KeyIndex(asymmetric, hmac, byKid);
    }
}
