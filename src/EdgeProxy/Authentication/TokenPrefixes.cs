namespace Authio.EdgeProxy.Authentication;

/// <summary>
/// The beginnings cached tokens share, held once: tokens signed by one key start with the same JOSE header, and an
/// issuer that writes <c>iss</c> and <c>aud</c> first makes the payload's first ≈ 100 characters the same too (≈ 190 of
/// a 527-byte token in the churn scenario). <see cref="TokenCache"/> keeps the shared part as a reference to one of
/// these arrays and only the rest in its slab, so the slab's regions can be smaller than whole tokens.
/// <para>
/// Learned from validated tokens only (the cache adds nothing else), so a client cannot fill the tables. A family per
/// distinct header holds its first token's beginning as the reference; a later token of the family shares the common
/// prefix with it, rounded down to <see cref="Granularity"/> bytes, which bounds the prefixes per family. Both tables
/// are bounded; when full, the oldest family makes room (entries keep the arrays they hold, so nothing is invalidated).
/// Off the hit path: runs on a miss, after the signature check, and costs two short comparisons there.
/// </para>
/// </summary>
internal sealed class TokenPrefixes
{
    /// <summary>Distinct headers (keys, issuers) remembered.</summary>
    public const int MaxFamilies = 16;

    /// <summary>Prefix lengths remembered per header.</summary>
    public const int MaxPerFamily = 16;

    /// <summary>Longest shared beginning looked for.</summary>
    public const int ReferenceBytes = 320;

    /// <summary>Prefix lengths are multiples of this (beyond the header itself).</summary>
    public const int Granularity = 16;

    private readonly Lock _gate = new();
    private Family[] _families = [];
    private int _nextReplaced;

    /// <summary>Prefixes known now, all families together (tests and the memory probe).</summary>
    public int Count => Volatile.Read(ref _families).Sum(f => Volatile.Read(ref f.Prefixes).Length);

    /// <summary>
    /// A shared array <paramref name="token"/> starts with, shorter than the token; empty when it has none (not a
    /// compact JWS, or a header longer than <see cref="ReferenceBytes"/>).
    /// </summary>
    public byte[] For(ReadOnlySpan<byte> token)
    {
        var header = token.IndexOf((byte)'.') + 1;
        if (header <= 0 || header >= token.Length || header > ReferenceBytes)
        {
            return [];
        }
        var family = Find(Volatile.Read(ref _families), token, header) ?? Learn(token, header);
        var common = Math.Min(token.CommonPrefixLength(family.Reference), token.Length - 1);
        var prefixes = Volatile.Read(ref family.Prefixes);
        var best = Longest(prefixes, common);
        var length = common / Granularity * Granularity;
        if (length <= best.Length || prefixes.Length >= MaxPerFamily)
        {
            return best;
        }
        lock (_gate)
        {
            prefixes = family.Prefixes;
            best = Longest(prefixes, common);
            if (length <= best.Length || prefixes.Length >= MaxPerFamily)
            {
                return best;
            }
            var added = family.Reference.AsSpan(0, length).ToArray();
            Volatile.Write(ref family.Prefixes, [.. prefixes, added]);
            return added;
        }
    }

    private static Family? Find(Family[] families, ReadOnlySpan<byte> token, int header)
    {
        foreach (var family in families)
        {
            if (family.HeaderLength == header && token[..header].SequenceEqual(family.Reference.AsSpan(0, header)))
            {
                return family;
            }
        }
        return null;
    }

    /// <summary>The longest prefix no longer than <paramref name="common"/> (all of a family's are the reference's beginnings).</summary>
    private static byte[] Longest(byte[][] prefixes, int common)
    {
        byte[] best = [];
        foreach (var prefix in prefixes)
        {
            if (prefix.Length <= common && prefix.Length > best.Length)
            {
                best = prefix;
            }
        }
        return best;
    }

    private Family Learn(ReadOnlySpan<byte> token, int header)
    {
        lock (_gate)
        {
            if (Find(_families, token, header) is { } known)
            {
                return known;
            }
            var family = new Family(token[..Math.Min(token.Length, ReferenceBytes)].ToArray(), header);
            var families = _families;
            if (families.Length < MaxFamilies)
            {
                Volatile.Write(ref _families, [.. families, family]);
            }
            else
            {
                var replaced = (Family[])families.Clone();
                replaced[_nextReplaced] = family;
                _nextReplaced = (_nextReplaced + 1) % MaxFamilies;
                Volatile.Write(ref _families, replaced);
            }
            return family;
        }
    }

    private sealed class Family(byte[] reference, int headerLength)
    {
        public byte[] Reference { get; } = reference;
        public int HeaderLength { get; } = headerLength;
        /// <summary>Copy on write under the gate; the header itself first.</summary>
        public byte[][] Prefixes = [reference.AsSpan(0, headerLength).ToArray()];
    }
}
