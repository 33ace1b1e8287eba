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
                var merged = new SigningKey[next.Keys.Length];
                for (var i = 0; i < merged.Length; i++)
                {
                    merged[i] = Array.Find(previous.Keys, old => old.SameAs(next.Keys[i])) ?? next.Keys[i];
                }
                next = new KeySet(merged, next.LoadedAt);
            }
            if (previous is not null)
            {
                foreach (var old in previous.Keys)
                {
                    if (next is null || Array.IndexOf(next.Keys, old) < 0)
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
}

/// <summary>Immutable lookup from (alg, kid) to candidate keys across issuers.</summary>
internal sealed class KeyIndex
{
    private KeyIndex(SigningKey[] asymmetric, HmacSigningKey[] hmac)
    {
        Asymmetric = asymmetric;
        Hmac = hmac;
    }

    public SigningKey[] Asymmetric { get; }
    public HmacSigningKey[] Hmac { get; }

    public static KeyIndex Build(IReadOnlyList<TrustedIssuer> issuers)
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
        return new KeyIndex([.. asymmetric], [.. hmac]);
    }
}
